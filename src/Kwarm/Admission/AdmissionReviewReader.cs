using System.Text.Json;

namespace Kwarm.Admission;

/// <summary>
/// Maps the envelope of an AdmissionReview onto <see cref="AdmissionRequest"/> straight from a parsed document,
/// leaving <c>object</c>, <c>oldObject</c> and <c>options</c> as elements of that same document. The serializer
/// would copy each of them into a document of its own: two copies of the Deployment per request, the bulk of the
/// webhook's allocations. The elements are valid only while the document is. The webhook itself hands it the
/// envelope only (<see cref="ReviewEnvelope"/>), without the objects, which it reads in place from the body.
/// </summary>
public static class AdmissionReviewReader
{
    public static AdmissionRequest ReadRequest(JsonElement request)
    {
        const string at = "$.request";
        Expect(request, JsonValueKind.Object, at);
        return new AdmissionRequest
        {
            Uid = ReadString(request, "uid", at),
            Kind = Kind(request, "kind", at),
            Resource = Resource(request, "resource", at),
            SubResource = ReadString(request, "subResource", at),
            RequestKind = Kind(request, "requestKind", at),
            RequestResource = Resource(request, "requestResource", at),
            RequestSubResource = ReadString(request, "requestSubResource", at),
            Name = ReadString(request, "name", at),
            Namespace = ReadString(request, "namespace", at),
            Operation = ReadString(request, "operation", at),
            UserInfo = UserInfo(request, "userInfo", at),
            Object = Raw(request, "object"),
            OldObject = Raw(request, "oldObject"),
            DryRun = Boolean(request, "dryRun", at),
            Options = Raw(request, "options"),
        };
    }

    /// <summary>A string member; absent or JSON null reads as null.</summary>
    public static string? ReadString(JsonElement parent, string name, string at)
    {
        if (!Present(parent, name, out var value))
        {
            return null;
        }

        Expect(value, JsonValueKind.String, $"{at}.{name}");
        return value.GetString();
    }

    private static bool? Boolean(JsonElement parent, string name, string at)
    {
        if (!Present(parent, name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong($"{at}.{name}", "a boolean", value),
        };
    }

    private static GroupVersionKind? Kind(JsonElement parent, string name, string at)
    {
        if (!Present(parent, name, out var value))
        {
            return null;
        }

        var path = $"{at}.{name}";
        Expect(value, JsonValueKind.Object, path);
        return new GroupVersionKind { Group = ReadString(value, "group", path), Version = ReadString(value, "version", path), Kind = ReadString(value, "kind", path) };
    }

    private static GroupVersionResource? Resource(JsonElement parent, string name, string at)
    {
        if (!Present(parent, name, out var value))
        {
            return null;
        }

        var path = $"{at}.{name}";
        Expect(value, JsonValueKind.Object, path);
        return new GroupVersionResource { Group = ReadString(value, "group", path), Version = ReadString(value, "version", path), Resource = ReadString(value, "resource", path) };
    }

    private static AdmissionUserInfo? UserInfo(JsonElement parent, string name, string at)
    {
        if (!Present(parent, name, out var value))
        {
            return null;
        }

        var path = $"{at}.{name}";
        Expect(value, JsonValueKind.Object, path);
        Dictionary<string, IReadOnlyList<string>>? extra = null;
        if (Present(value, "extra", out var extraValue))
        {
            Expect(extraValue, JsonValueKind.Object, $"{path}.extra");
            extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var property in extraValue.EnumerateObject())
            {
                extra[property.Name] = Strings(property.Value, $"{path}.extra.{property.Name}");
            }
        }

        return new AdmissionUserInfo
        {
            Username = ReadString(value, "username", path),
            Uid = ReadString(value, "uid", path),
            Groups = Present(value, "groups", out var groups) ? Strings(groups, $"{path}.groups") : null,
            Extra = extra,
        };
    }

    private static string[] Strings(JsonElement array, string path)
    {
        Expect(array, JsonValueKind.Array, path);
        var result = new string[array.GetArrayLength()];
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            Expect(item, JsonValueKind.String, $"{path}[{index}]");
            result[index++] = item.GetString()!;
        }

        return result;
    }

    /// <summary>Kept as it is: what an object looks like is for the decision to judge, leniently.</summary>
    private static JsonElement? Raw(JsonElement parent, string name) => Present(parent, name, out var value) ? value : null;

    private static bool Present(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static void Expect(JsonElement value, JsonValueKind kind, string path)
    {
        if (value.ValueKind != kind)
        {
            throw Wrong(path, kind == JsonValueKind.Object ? "an object" : kind == JsonValueKind.Array ? "an array" : "a " + kind.ToString().ToLowerInvariant(), value);
        }
    }

    private static InvalidAdmissionReviewException Wrong(string path, string expected, JsonElement actual) =>
        new($"{path} must be {expected}, not {Describe(actual.ValueKind)}");

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
