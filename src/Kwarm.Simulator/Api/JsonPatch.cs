using System.Globalization;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>RFC 6902 JSON Patch. Any failure (including a failing <c>test</c>) is the API server's generic 422.</summary>
public static class JsonPatch
{
    public static JsonNode Apply(JsonNode document, JsonNode? patch)
    {
        if (patch is not JsonArray operations)
        {
            throw ApiException.BadRequest("the body of the request was not a JSON patch: expected an array of operations");
        }

        var root = new JsonObject { ["doc"] = document.DeepClone() };
        foreach (var operation in operations)
        {
            if (operation is not JsonObject op || op.Str("op") is not { } name || op.Str("path") is not { } path)
            {
                throw ApiException.PatchRejected();
            }

            switch (name)
            {
                case "add":
                    Add(root, path, Value(op));
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Remove(root, path);
                    Add(root, path, Value(op));
                    break;
                case "move":
                    {
                        var from = op.Str("from") ?? throw ApiException.PatchRejected();
                        var value = Remove(root, from);
                        Add(root, path, value);
                        break;
                    }

                case "copy":
                    {
                        var from = op.Str("from") ?? throw ApiException.PatchRejected();
                        Add(root, path, Get(root, from)?.DeepClone());
                        break;
                    }

                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), Value(op)))
                    {
                        throw ApiException.PatchRejected();
                    }

                    break;
                default:
                    throw ApiException.PatchRejected();
            }
        }

        return root["doc"] ?? throw ApiException.PatchRejected();
    }

    private static JsonNode? Value(JsonObject op) =>
        op.TryGetPropertyValue("value", out var value) ? value?.DeepClone() : throw ApiException.PatchRejected();

    private static List<string> Tokens(string path)
    {
        if (path.Length == 0)
        {
            return ["doc"];
        }

        if (!path.StartsWith('/'))
        {
            throw ApiException.PatchRejected();
        }

        var tokens = new List<string> { "doc" };
        tokens.AddRange(path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)));
        return tokens;
    }

    private static (JsonNode Parent, string Last) Parent(JsonObject root, string path)
    {
        var tokens = Tokens(path);
        JsonNode node = root;
        foreach (var token in tokens.Take(tokens.Count - 1))
        {
            node = Child(node, token) ?? throw ApiException.PatchRejected();
        }

        return (node, tokens[^1]);
    }

    private static JsonNode? Child(JsonNode node, string token) => node switch
    {
        JsonObject obj => obj.TryGetPropertyValue(token, out var v) ? v : throw ApiException.PatchRejected(),
        JsonArray array when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < array.Count => array[i],
        _ => throw ApiException.PatchRejected(),
    };

    private static JsonNode? Get(JsonObject root, string path)
    {
        var (parent, last) = Parent(root, path);
        return Child(parent, last);
    }

    private static void Add(JsonObject root, string path, JsonNode? value)
    {
        var (parent, last) = Parent(root, path);
        switch (parent)
        {
            case JsonObject obj:
                obj[last] = value;
                break;
            case JsonArray array when last == "-":
                array.Add(value);
                break;
            case JsonArray array when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= array.Count:
                array.Insert(i, value);
                break;
            default:
                throw ApiException.PatchRejected();
        }
    }

    private static JsonNode? Remove(JsonObject root, string path)
    {
        var (parent, last) = Parent(root, path);
        switch (parent)
        {
            case JsonObject obj when obj.TryGetPropertyValue(last, out var value):
                obj.Remove(last);
                return value;
            case JsonArray array when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < array.Count:
                var removed = array[i];
                array.RemoveAt(i);
                return removed;
            default:
                throw ApiException.PatchRejected();
        }
    }
}
