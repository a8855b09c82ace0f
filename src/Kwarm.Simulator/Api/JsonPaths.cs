using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>Small accessors over <see cref="JsonNode"/> trees: the simulator stores objects as plain JSON.</summary>
public static class JsonPaths
{
    public static JsonObject Metadata(this JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        if (obj["metadata"] is JsonObject metadata)
        {
            return metadata;
        }

        metadata = [];
        obj["metadata"] = metadata;
        return metadata;
    }

    public static JsonNode? At(this JsonNode? node, params string[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var segment in path)
        {
            if (node is not JsonObject obj)
            {
                return null;
            }

            node = obj[segment];
        }

        return node;
    }

    public static string? Str(this JsonNode? node, params string[] path) =>
        node.At(path) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static long? Long(this JsonNode? node, params string[] path)
    {
        if (node.At(path) is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.Number => Number(value),
            JsonValueKind.String when long.TryParse(value.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => s,
            _ => null,
        };
    }

    /// <summary>
    /// A number node as a long, whether it was parsed (any numeric type converts) or built in memory from an
    /// int, long or double (which convert only to their own type).
    /// </summary>
    private static long Number(JsonValue value) =>
        value.TryGetValue<long>(out var l) ? l
        : value.TryGetValue<int>(out var i) ? i
        : value.TryGetValue<double>(out var d) ? (long)d
        : value.TryGetValue<decimal>(out var m) ? (long)m
        : long.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    public static bool? Bool(this JsonNode? node, params string[] path) =>
        node.At(path) is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? value.GetValue<bool>() : null;

    public static JsonObject Obj(this JsonObject parent, string name)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (parent[name] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[name] = created;
        return created;
    }

    public static JsonArray Arr(this JsonObject parent, string name)
    {
        ArgumentNullException.ThrowIfNull(parent);
        if (parent[name] is JsonArray existing)
        {
            return existing;
        }

        var created = new JsonArray();
        parent[name] = created;
        return created;
    }

    public static IEnumerable<JsonObject> Objects(this JsonNode? node, params string[] path) =>
        node.At(path) is JsonArray array ? array.OfType<JsonObject>() : [];

    public static Dictionary<string, string> StringMap(this JsonNode? node, params string[] path)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node.At(path) is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    map[key] = v.GetValue<string>();
                }
            }
        }

        return map;
    }

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTimestamp(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) ? parsed : null;

    /// <summary>Returns a copy whose top level starts with kind, apiVersion, metadata, like the API server's output.</summary>
    public static JsonObject Canonical(JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        if (InCanonicalOrder(obj))
        {
            return obj;
        }

        var ordered = new JsonObject();
        foreach (var key in new[] { "kind", "apiVersion", "metadata" })
        {
            if (obj.TryGetPropertyValue(key, out var value))
            {
                ordered[key] = value?.DeepClone();
            }
        }

        foreach (var (key, value) in obj)
        {
            if (key is not ("kind" or "apiVersion" or "metadata"))
            {
                ordered[key] = value?.DeepClone();
            }
        }

        return ordered;
    }

    private static bool InCanonicalOrder(JsonObject obj)
    {
        var expected = new[] { "kind", "apiVersion", "metadata" };
        var index = 0;
        foreach (var (key, _) in obj)
        {
            if (index < expected.Length)
            {
                if (key != expected[index])
                {
                    return false;
                }

                index++;
            }
            else if (key is "kind" or "apiVersion" or "metadata")
            {
                return false;
            }
        }

        return index == expected.Length;
    }
}
