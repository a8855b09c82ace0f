using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kwarm.Tests.Resources;

/// <summary>
/// Reads YAML documents into JSON trees the way the Kubernetes tooling does (YAML 1.2 core schema for plain scalars).
/// Plain scalars whose type differs between YAML 1.1 and 1.2 (<c>yes</c>, <c>on</c>, <c>0777</c>, ...) are refused,
/// so a manifest can never mean one thing to kubectl and another to these tests.
/// </summary>
internal static class YamlJson
{
    private static readonly HashSet<string> AmbiguousPlainScalars = new(StringComparer.OrdinalIgnoreCase)
    {
        "y", "n", "yes", "no", "on", "off",
    };

    public static IReadOnlyList<JsonNode?> ReadAll(string yaml)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(yaml))
        {
            stream.Load(reader);
        }

        // Re-parsed so that every value is backed by JSON text, as in a tree read from the API server:
        // GetValue<decimal>() then works on any number, whatever CLR type the converter created it from.
        return stream.Documents
            .Select(document => Convert(document.RootNode) is { } node ? JsonNode.Parse(node.ToJsonString()) : null)
            .ToList();
    }

    public static JsonNode ReadSingle(string yaml)
    {
        var documents = ReadAll(yaml);
        if (documents is not [JsonNode single])
        {
            throw new InvalidDataException($"Expected one non-empty YAML document, found {documents.Count}");
        }

        return single;
    }

    public static JsonNode ReadFile(string path) => ReadSingle(File.ReadAllText(path));

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode mapping => ConvertMapping(mapping),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => ConvertScalar(scalar),
        _ => throw new InvalidDataException($"Unsupported YAML node {node.NodeType} at {node.Start}"),
    };

    private static JsonObject ConvertMapping(YamlMappingNode mapping)
    {
        var result = new JsonObject();
        foreach (var (key, value) in mapping.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                throw new InvalidDataException($"Only scalar keys are supported (at {key.Start})");
            }

            if (result.ContainsKey(name))
            {
                throw new InvalidDataException($"Duplicate key \"{name}\" at {key.Start}");
            }

            result[name] = Convert(value);
        }

        return result;
    }

    private static JsonValue? ConvertScalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain || (!scalar.Tag.IsEmpty && scalar.Tag.Value == "tag:yaml.org,2002:str"))
        {
            return JsonValue.Create(text);
        }

        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (AmbiguousPlainScalars.Contains(text))
        {
            throw new InvalidDataException($"Plain scalar \"{text}\" at {scalar.Start} is a boolean in YAML 1.1 and a string in 1.2: quote it");
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            if (text.TrimStart('-', '+').Length > 1 && text.TrimStart('-', '+').StartsWith('0'))
            {
                throw new InvalidDataException($"Plain scalar \"{text}\" at {scalar.Start} is octal in YAML 1.1: quote it");
            }

            return JsonValue.Create(integer);
        }

        if (IsYamlFloat(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }

    private static bool IsYamlFloat(string text)
    {
        var span = text.AsSpan().TrimStart("+-");
        var digits = 0;
        var index = 0;
        while (index < span.Length && char.IsAsciiDigit(span[index]))
        {
            index++;
            digits++;
        }

        if (index < span.Length && span[index] == '.')
        {
            index++;
            while (index < span.Length && char.IsAsciiDigit(span[index]))
            {
                index++;
                digits++;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (index < span.Length && span[index] is 'e' or 'E')
        {
            index++;
            if (index < span.Length && span[index] is '+' or '-')
            {
                index++;
            }

            var exponentStart = index;
            while (index < span.Length && char.IsAsciiDigit(span[index]))
            {
                index++;
            }

            if (index == exponentStart)
            {
                return false;
            }
        }

        return index == span.Length;
    }
}
