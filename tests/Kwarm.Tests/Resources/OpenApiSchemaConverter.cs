using System.Text.Json.Nodes;

namespace Kwarm.Tests.Resources;

/// <summary>
/// Turns a Kubernetes structural OpenAPI v3 schema (a CRD's <c>openAPIV3Schema</c>) into an equivalent JSON Schema
/// 2020-12 document, so a general validator checks objects the way the API server does.
/// </summary>
/// <remarks>
/// Every keyword is either translated or refused: a keyword this converter does not know (a typo, a CEL rule,
/// a newer OpenAPI feature) throws instead of being carried along, because a JSON Schema validator would ignore it
/// and silently accept what the API server rejects.
/// Translations: a pattern's trailing <c>$</c> means end of text as in Go; <c>nullable</c> adds <c>null</c> to <c>type</c>; <c>x-kubernetes-int-or-string</c> means
/// <c>type: [integer, string]</c>; <c>format: int64</c> becomes bounds (the API server's JSON decoder refuses a larger
/// integer) and <c>format: int32</c> none (measured: the API server does not enforce it); OpenAPI 3.0's boolean
/// <c>exclusiveMinimum/Maximum</c> become 2020-12's numeric form; <c>x-kubernetes-list-type: set</c> becomes
/// <c>uniqueItems</c>; an object with <c>properties</c> and without <c>x-kubernetes-preserve-unknown-fields</c>
/// refuses other properties (the API server would prune them: for a sample that is a silent loss, so a failure here).
/// Kept for the API server alone: the uniqueness of <c>x-kubernetes-list-type: map</c> keys and the merge hints
/// (<c>x-kubernetes-map-type</c>, <c>list-map-keys</c>), which constrain updates rather than single objects; and the
/// CEL rules of <c>x-kubernetes-validations</c>, which a JSON Schema validator cannot run (Kubernetes 1.24 does not run
/// them either: Kwarm's own validation reports what they refuse, and <c>CrdValidationRuleTests</c> holds the two
/// together).
/// </remarks>
internal static class OpenApiSchemaConverter
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal) { "description", "title", "default", "example" };

    private static readonly HashSet<string> CopiedAsIs = new(StringComparer.Ordinal)
    {
        "enum", "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
        "multipleOf", "required", "uniqueItems",
    };

    private static readonly HashSet<string> SchemaValued = new(StringComparer.Ordinal) { "items", "not" };

    private static readonly HashSet<string> SchemaListValued = new(StringComparer.Ordinal) { "allOf", "anyOf", "oneOf" };

    private static readonly HashSet<string> HandledSeparately = new(StringComparer.Ordinal)
    {
        "type", "nullable", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "properties",
        "additionalProperties", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-embedded-resource",
        "x-kubernetes-validations",
    };

    private static readonly HashSet<string> KnownFormats = new(StringComparer.Ordinal) { "int32", "int64", "date-time" };

    public static JsonObject Convert(JsonNode openApiSchema) => ConvertNode(openApiSchema, "openAPIV3Schema");

    private static JsonObject ConvertNode(JsonNode? node, string path)
    {
        if (node is not JsonObject source)
        {
            throw new NotSupportedException($"{path}: a schema must be an object");
        }

        var result = new JsonObject();
        foreach (var (keyword, value) in source)
        {
            var at = $"{path}.{keyword}";
            if (Annotations.Contains(keyword))
            {
                // 2020-12 spells OpenAPI's single "example" as the "examples" array.
                if (keyword == "example")
                {
                    result["examples"] = new JsonArray(value?.DeepClone());
                }
                else
                {
                    result[keyword] = value?.DeepClone();
                }
            }
            else if (CopiedAsIs.Contains(keyword))
            {
                result[keyword] = value?.DeepClone();
            }
            else if (keyword == "pattern")
            {
                result[keyword] = EndAnchorAsInGo(value!.GetValue<string>());
            }
            else if (SchemaValued.Contains(keyword))
            {
                result[keyword] = ConvertNode(value, at);
            }
            else if (SchemaListValued.Contains(keyword))
            {
                var list = value as JsonArray ?? throw new NotSupportedException($"{at}: expected a list of schemas");
                result[keyword] = new JsonArray(list.Select((item, i) => (JsonNode?)ConvertNode(item, $"{at}[{i}]")).ToArray());
            }
            else if (!HandledSeparately.Contains(keyword))
            {
                throw new NotSupportedException(
                    $"{at}: keyword \"{keyword}\" is not understood by this converter; a validator would ignore it, so it is refused");
            }
        }

        ConvertType(source, result, path);
        ConvertNumericBounds(source, result, path);
        ConvertObjectKeywords(source, result, path);
        ConvertListType(source, result, path);
        return result;
    }

    /// <summary>
    /// In Go's RE2 (the API server) and in ECMA-262, <c>$</c> matches only at the end of the text; in .NET it also
    /// matches before a final newline, so <c>"10m\n"</c> would pass. A trailing <c>$</c> becomes <c>\z</c>.
    /// </summary>
    public static string EndAnchorAsInGo(string pattern) =>
        pattern.EndsWith('$') && !pattern.EndsWith("\\$", StringComparison.Ordinal) ? pattern[..^1] + "\\z" : pattern;

    private static void ConvertType(JsonObject source, JsonObject result, string path)
    {
        var nullable = source["nullable"]?.GetValue<bool>() ?? false;
        var intOrString = source["x-kubernetes-int-or-string"]?.GetValue<bool>() ?? false;
        var declared = source["type"]?.GetValue<string>();
        var types = new JsonArray();
        if (intOrString)
        {
            if (declared is not null)
            {
                throw new NotSupportedException($"{path}: x-kubernetes-int-or-string must not be combined with a type");
            }

            types.Add("integer");
            types.Add("string");
        }
        else if (declared is not null)
        {
            types.Add(declared);
        }

        if (types.Count == 0)
        {
            // Only x-kubernetes-preserve-unknown-fields or a subschema inside anyOf/allOf may leave the type open.
            return;
        }

        if (nullable)
        {
            types.Add("null");
            if (result["enum"] is JsonArray values && !values.Any(v => v is null))
            {
                values.Add(null);
            }
        }

        result["type"] = types.Count == 1 ? types[0]!.DeepClone() : types;
    }

    private static void ConvertNumericBounds(JsonObject source, JsonObject result, string path)
    {
        decimal? minimum = source["minimum"]?.GetValue<decimal>();
        decimal? maximum = source["maximum"]?.GetValue<decimal>();
        switch (source["format"]?.GetValue<string>())
        {
            case null:
                break;
            case "int32":
                // Measured on kube-apiserver v1.24: format int32 is not enforced; only a maximum bounds the value.
                break;
            case "int64":
                // Beyond int64 the API server's decoder yields a float, refused as "must be of type integer".
                minimum = Math.Max(minimum ?? long.MinValue, long.MinValue);
                maximum = Math.Min(maximum ?? long.MaxValue, long.MaxValue);
                break;
            case var format when KnownFormats.Contains(format):
                result["format"] = format;
                break;
            case var format:
                throw new NotSupportedException($"{path}.format: \"{format}\" is not understood by this converter");
        }

        var exclusiveMinimum = source["exclusiveMinimum"]?.GetValue<bool>() ?? false;
        var exclusiveMaximum = source["exclusiveMaximum"]?.GetValue<bool>() ?? false;
        if (minimum is { } min)
        {
            result[exclusiveMinimum ? "exclusiveMinimum" : "minimum"] = min;
        }
        else if (exclusiveMinimum)
        {
            throw new NotSupportedException($"{path}: exclusiveMinimum without minimum");
        }

        if (maximum is { } max)
        {
            result[exclusiveMaximum ? "exclusiveMaximum" : "maximum"] = max;
        }
        else if (exclusiveMaximum)
        {
            throw new NotSupportedException($"{path}: exclusiveMaximum without maximum");
        }
    }

    private static void ConvertObjectKeywords(JsonObject source, JsonObject result, string path)
    {
        var preserveUnknown = source["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() ?? false;
        if (source["properties"] is JsonObject properties)
        {
            var converted = new JsonObject();
            foreach (var (name, schema) in properties)
            {
                converted[name] = ConvertNode(schema, $"{path}.properties.{name}");
            }

            result["properties"] = converted;
        }

        switch (source["additionalProperties"])
        {
            case null when source["properties"] is not null && !preserveUnknown:
                result["additionalProperties"] = false;
                break;
            case null:
                break;
            case JsonValue flag when flag.TryGetValue<bool>(out var allowed):
                result["additionalProperties"] = allowed;
                break;
            case var schema:
                result["additionalProperties"] = ConvertNode(schema, $"{path}.additionalProperties");
                break;
        }
    }

    private static void ConvertListType(JsonObject source, JsonObject result, string path)
    {
        switch (source["x-kubernetes-list-type"]?.GetValue<string>())
        {
            case null or "atomic" or "map":
                break;
            case "set":
                result["uniqueItems"] = true;
                break;
            case var other:
                throw new NotSupportedException($"{path}.x-kubernetes-list-type: \"{other}\" is not atomic, set or map");
        }
    }
}
