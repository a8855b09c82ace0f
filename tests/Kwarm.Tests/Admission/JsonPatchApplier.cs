using System.Globalization;
using System.Text.Json.Nodes;

namespace Kwarm.Tests.Admission;

/// <summary>
/// A small RFC 6902 applier (add, replace, remove, test) over <see cref="JsonNode"/>, written independently of the
/// production patch writer so that a wrong pointer or escape in the webhook's patch shows up as a test failure.
/// </summary>
internal static class JsonPatchApplier
{
    public static JsonNode Apply(JsonNode document, JsonArray patch)
    {
        var result = document.DeepClone();
        foreach (var operation in patch)
        {
            var op = (string)operation!["op"]!;
            var path = (string)operation["path"]!;
            var tokens = Parse(path);
            if (tokens.Count == 0)
            {
                throw new InvalidOperationException("operations on the document root are not supported here");
            }

            var parent = Walk(result, tokens.Take(tokens.Count - 1), path);
            var last = tokens[^1];
            switch (op)
            {
                case "add":
                    Add(parent, last, operation["value"]?.DeepClone(), path);
                    break;
                case "replace":
                    Remove(parent, last, path);
                    Add(parent, last, operation["value"]?.DeepClone(), path);
                    break;
                case "remove":
                    Remove(parent, last, path);
                    break;
                case "test":
                    var actual = Get(parent, last, path);
                    if (!JsonNode.DeepEquals(actual, operation["value"]))
                    {
                        throw new InvalidOperationException($"test failed at {path}");
                    }

                    break;
                default:
                    throw new InvalidOperationException($"unsupported op {op}");
            }
        }

        return result;
    }

    /// <summary>RFC 6901 decoding: <c>~1</c> is <c>/</c>, <c>~0</c> is <c>~</c> (in that order).</summary>
    private static List<string> Parse(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw new InvalidOperationException($"a JSON pointer starts with '/': {pointer}");
        }

        return pointer[1..].Split('/').Select(token => token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode Walk(JsonNode root, IEnumerable<string> tokens, string path)
    {
        var node = root;
        foreach (var token in tokens)
        {
            node = Get(node, token, path) ?? throw new InvalidOperationException($"{path}: '{token}' does not exist");
        }

        return node;
    }

    private static JsonNode? Get(JsonNode parent, string token, string path) => parent switch
    {
        JsonObject map => map.TryGetPropertyValue(token, out var child) ? child : throw new InvalidOperationException($"{path}: no member '{token}'"),
        JsonArray list => list[int.Parse(token, CultureInfo.InvariantCulture)],
        _ => throw new InvalidOperationException($"{path}: cannot descend into a scalar"),
    };

    private static void Add(JsonNode parent, string token, JsonNode? value, string path)
    {
        switch (parent)
        {
            case JsonObject map:
                map[token] = value;
                break;
            case JsonArray list when token == "-":
                list.Add(value);
                break;
            case JsonArray list:
                list.Insert(int.Parse(token, CultureInfo.InvariantCulture), value);
                break;
            default:
                throw new InvalidOperationException($"{path}: cannot add into a scalar");
        }
    }

    private static void Remove(JsonNode parent, string token, string path)
    {
        switch (parent)
        {
            case JsonObject map when map.Remove(token):
                break;
            case JsonArray list:
                list.RemoveAt(int.Parse(token, CultureInfo.InvariantCulture));
                break;
            default:
                throw new InvalidOperationException($"{path}: nothing to remove");
        }
    }
}
