using System.Text.Json.Nodes;

namespace Kwarm.Tests.Resources;

/// <summary>Small helpers over JSON trees: field-path access, deep comparison with a readable difference, defaulting.</summary>
internal static class JsonTree
{
    /// <summary>Re-parses <paramref name="node"/> so that trees built from CLR values and parsed trees compare alike.</summary>
    public static JsonNode Normalize(JsonNode node) => JsonNode.Parse(node.ToJsonString())!;

    /// <summary>The first difference between two trees as a field path with both values, or null when they are equal.</summary>
    public static string? FirstDifference(JsonNode? expected, JsonNode? actual, string path = "")
    {
        switch (expected, actual)
        {
            case (JsonObject left, JsonObject right):
                foreach (var name in left.Select(p => p.Key).Union(right.Select(p => p.Key)))
                {
                    if (!left.ContainsKey(name) || !right.ContainsKey(name))
                    {
                        return $"{Child(path, name)}: only in {(left.ContainsKey(name) ? "the original" : "the round trip")}";
                    }

                    if (FirstDifference(left[name], right[name], Child(path, name)) is { } difference)
                    {
                        return difference;
                    }
                }

                return null;
            case (JsonArray left, JsonArray right):
                if (left.Count != right.Count)
                {
                    return $"{path}: {left.Count} items became {right.Count}";
                }

                for (var i = 0; i < left.Count; i++)
                {
                    if (FirstDifference(left[i], right[i], $"{path}[{i}]") is { } difference)
                    {
                        return difference;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(expected is null ? null : Normalize(expected), actual is null ? null : Normalize(actual))
                    ? null
                    : $"{path}: {expected?.ToJsonString() ?? "null"} became {actual?.ToJsonString() ?? "null"}";
        }
    }

    /// <summary>Sets the value at a dotted field path (<c>spec.retry.maxAttempts</c>), creating objects on the way.</summary>
    public static void Set(JsonNode root, string fieldPath, JsonNode? value)
    {
        var (parent, name) = Parent(root, fieldPath, create: true);
        parent[name] = value;
    }

    public static void Remove(JsonNode root, string fieldPath)
    {
        var (parent, name) = Parent(root, fieldPath, create: false);
        Assert.True(parent.Remove(name), $"{fieldPath} was not present");
    }

    /// <summary>Every leaf (scalar or empty container) of the tree as field path → value.</summary>
    public static Dictionary<string, JsonNode?> Leaves(JsonNode? node, string path = "")
    {
        var leaves = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        switch (node)
        {
            case JsonObject obj when obj.Count > 0:
                foreach (var (name, value) in obj)
                {
                    foreach (var leaf in Leaves(value, Child(path, name)))
                    {
                        leaves.Add(leaf.Key, leaf.Value);
                    }
                }

                break;
            case JsonArray array when array.Count > 0:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var leaf in Leaves(array[i], $"{path}[{i}]"))
                    {
                        leaves.Add(leaf.Key, leaf.Value);
                    }
                }

                break;
            default:
                leaves.Add(path, node);
                break;
        }

        return leaves;
    }

    /// <summary>
    /// Applies the <c>default</c>s of a structural schema the way the API server does: a missing property with a
    /// default gets a copy of it, then defaulting continues inside every present value (defaulted ones included).
    /// </summary>
    public static void ApplyDefaults(JsonNode? instance, JsonObject schema)
    {
        if (instance is JsonObject obj)
        {
            if (schema["properties"] is JsonObject properties)
            {
                foreach (var (name, propertySchema) in properties)
                {
                    if (!obj.ContainsKey(name) && propertySchema?["default"] is { } defaultValue)
                    {
                        obj[name] = defaultValue.DeepClone();
                    }
                }

                foreach (var (name, propertySchema) in properties)
                {
                    if (obj[name] is { } value && propertySchema is JsonObject childSchema)
                    {
                        ApplyDefaults(value, childSchema);
                    }
                }
            }
            else if (schema["additionalProperties"] is JsonObject valueSchema)
            {
                foreach (var (_, value) in obj)
                {
                    ApplyDefaults(value, valueSchema);
                }
            }
        }
        else if (instance is JsonArray array && schema["items"] is JsonObject itemSchema)
        {
            foreach (var item in array)
            {
                ApplyDefaults(item, itemSchema);
            }
        }
    }

    private static (JsonObject Parent, string Name) Parent(JsonNode root, string fieldPath, bool create)
    {
        var names = fieldPath.Split('.');
        var current = root.AsObject();
        foreach (var name in names[..^1])
        {
            if (current[name] is not JsonObject next)
            {
                Assert.True(create, $"{fieldPath}: {name} is missing");
                next = [];
                current[name] = next;
            }

            current = next;
        }

        return (current, names[^1]);
    }

    private static string Child(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
