using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kwarm.Simulator.Api;

/// <summary>
/// A structural schema of a CRD: defaults, pruning and the OpenAPI validations kube-apiserver runs, with its messages.
/// </summary>
/// <remarks>
/// Measured on kube-apiserver v1.24 (recorded in the Kwarm repository's schema notes):
/// <list type="bullet">
/// <item>A field inside a list is named without an index: <c>spec.tolerations.operator</c>, not <c>spec.tolerations[0].operator</c>.
/// The same violation in several items is reported once, for the first item.</item>
/// <item>Of a string's <c>maxLength</c>, <c>minLength</c> and <c>pattern</c> only the first that fails is reported, in that order.</item>
/// <item>An enum miss is <c>FieldValueNotSupported</c>; a number outside int64 is "must be of type integer: "number"";
/// <c>maxItems</c> quotes the item count, <c>maxProperties</c> the limit.</item>
/// <item><c>format: int32</c> bounds nothing: only <c>maximum</c> does.</item>
/// </list>
/// CEL rules (<c>x-kubernetes-validations</c>) are not evaluated: Kubernetes 1.24 drops them unless a feature gate is on.
/// </remarks>
public static class SchemaValidation
{
    /// <summary>Applies defaults and prunes unknown fields in place; returns the paths it pruned.</summary>
    public static IReadOnlyList<string> DefaultAndPrune(JsonObject schema, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(obj);
        var pruned = new List<string>();
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, propertySchema) in properties)
            {
                if (name is "metadata" or "apiVersion" or "kind" || propertySchema is not JsonObject ps)
                {
                    continue;
                }

                if (!obj.ContainsKey(name) && ps["default"] is { } d)
                {
                    obj[name] = d.DeepClone();
                }

                Walk(ps, obj[name], name, pruned);
            }

            if (schema.Bool("x-kubernetes-preserve-unknown-fields") != true)
            {
                foreach (var key in obj.Select(p => p.Key).Where(k => k is not ("metadata" or "apiVersion" or "kind") && !properties.ContainsKey(k)).ToList())
                {
                    obj.Remove(key);
                    pruned.Add(key);
                }
            }
        }

        return pruned;
    }

    private static void Walk(JsonObject schema, JsonNode? value, string path, List<string> pruned)
    {
        switch (value)
        {
            case JsonObject obj when schema["properties"] is JsonObject properties:
                foreach (var (name, propertySchema) in properties)
                {
                    if (propertySchema is not JsonObject ps)
                    {
                        continue;
                    }

                    if (!obj.ContainsKey(name) && ps["default"] is { } d)
                    {
                        obj[name] = d.DeepClone();
                    }

                    Walk(ps, obj[name], $"{path}.{name}", pruned);
                }

                if (schema.Bool("x-kubernetes-preserve-unknown-fields") != true)
                {
                    foreach (var key in obj.Select(p => p.Key).Where(k => !properties.ContainsKey(k)).ToList())
                    {
                        obj.Remove(key);
                        pruned.Add($"{path}.{key}");
                    }
                }

                break;
            case JsonObject map when schema["additionalProperties"] is JsonObject valueSchema:
                foreach (var (key, item) in map)
                {
                    Walk(valueSchema, item, $"{path}.{key}", pruned);
                }

                break;
            case JsonArray array when schema["items"] is JsonObject itemSchema:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(itemSchema, array[i], $"{path}[{i}]", pruned);
                }

                break;
        }
    }

    /// <summary>Checks types, enums, bounds, lengths, patterns and required fields; returns (field, message) causes.</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(JsonObject schema, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(obj);
        var causes = new Causes();
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, ps) in properties)
            {
                if (name is "metadata" or "apiVersion" or "kind" || ps is not JsonObject propertySchema || !obj.TryGetPropertyValue(name, out var value))
                {
                    continue;
                }

                Check(propertySchema, value, name, causes);
            }
        }

        return causes.List;
    }

    private static void Check(JsonObject schema, JsonNode? value, string path, Causes causes)
    {
        if (value is null)
        {
            if (schema.Bool("nullable") != true)
            {
                causes.Add(path, "type:null", $"Invalid value: \"null\": {path} in body must be of type {schema.Str("type") ?? "object"}: \"null\"");
            }

            return;
        }

        var type = schema.Str("type");
        var kind = KindName(value);
        var intOrString = schema.Bool("x-kubernetes-int-or-string") == true;
        var typeOk = intOrString ? kind is "integer" or "string" : type switch
        {
            "object" => kind == "object",
            "array" => kind == "array",
            "string" => kind == "string",
            "integer" => kind == "integer",
            "number" => kind is "integer" or "number",
            "boolean" => kind == "boolean",
            _ => true,
        };
        if (!typeOk)
        {
            causes.Add(path, "type:" + kind, $"Invalid value: \"{kind}\": {path} in body must be of type {type}: \"{kind}\"");
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            var list = string.Join(", ", allowed.Select(a => a?.ToJsonString()));
            causes.Add(path, "enum", $"Unsupported value: {value.ToJsonString()}: supported values: {list}");
        }

        switch (value)
        {
            case JsonObject obj:
                CheckObject(schema, obj, path, causes);
                break;
            case JsonArray array:
                CheckArray(schema, array, path, causes);
                break;
            case JsonValue when kind is "integer" or "number":
                CheckNumber(schema, value, path, causes);
                break;
            case JsonValue when kind == "string":
                CheckString(schema, value.GetValue<string>(), path, causes);
                break;
        }
    }

    private static void CheckNumber(JsonObject schema, JsonNode value, string path, Causes causes)
    {
        var number = double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
        var shown = Show(number);
        if (schema["maximum"] is JsonValue max && number > double.Parse(max.ToJsonString(), CultureInfo.InvariantCulture))
        {
            causes.Add(path, "maximum", $"Invalid value: {shown}: {path} in body should be less than or equal to {max.ToJsonString()}");
        }
        else if (schema["minimum"] is JsonValue min && number < double.Parse(min.ToJsonString(), CultureInfo.InvariantCulture))
        {
            causes.Add(path, "minimum", $"Invalid value: {shown}: {path} in body should be greater than or equal to {min.ToJsonString()}");
        }
    }

    /// <summary>maxLength, minLength, pattern: the API server reports only the first of them that fails.</summary>
    private static void CheckString(JsonObject schema, string text, string path, Causes causes)
    {
        // Lengths count characters (Unicode code points), as Go's utf8.RuneCountInString.
        var length = text.EnumerateRunes().Count();
        if (schema.Long("maxLength") is { } maxLength && length > maxLength)
        {
            causes.Add(path, "maxLength", $"Invalid value: {Quote(text)}: {path} in body should be at most {maxLength} chars long");
        }
        else if (schema.Long("minLength") is { } minLength && length < minLength)
        {
            causes.Add(path, "minLength", $"Invalid value: {Quote(text)}: {path} in body should be at least {minLength} chars long");
        }
        else if (schema.Str("pattern") is { } pattern && !MatchesAsInGo(pattern, text))
        {
            causes.Add(path, "pattern", $"Invalid value: {Quote(text)}: {path} in body should match '{pattern}'");
        }
    }

    private static void CheckObject(JsonObject schema, JsonObject obj, string path, Causes causes)
    {
        if (schema.Long("maxProperties") is { } maxProperties && obj.Count > maxProperties)
        {
            // The API server quotes the limit here, not the count.
            causes.Add(path, "maxProperties", $"Invalid value: {maxProperties}: {path} in body should have at most {maxProperties} properties");
        }

        if (schema["required"] is JsonArray required)
        {
            foreach (var name in required.Select(r => r?.ToString() ?? ""))
            {
                if (!obj.ContainsKey(name))
                {
                    causes.Add($"{path}.{name}", "required", "Required value");
                }
            }
        }

        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (name, ps) in properties)
            {
                if (ps is JsonObject propertySchema && obj.TryGetPropertyValue(name, out var child))
                {
                    Check(propertySchema, child, $"{path}.{name}", causes);
                }
            }
        }
        else if (schema["additionalProperties"] is JsonObject valueSchema)
        {
            foreach (var (name, child) in obj)
            {
                Check(valueSchema, child, $"{path}.{name}", causes);
            }
        }
    }

    private static void CheckArray(JsonObject schema, JsonArray array, string path, Causes causes)
    {
        if (schema.Long("maxItems") is { } maxItems && array.Count > maxItems)
        {
            causes.Add(path, "maxItems", $"Invalid value: {array.Count}: {path} in body should have at most {maxItems} items");
        }

        if (schema["items"] is JsonObject itemSchema)
        {
            foreach (var item in array)
            {
                // No index: the API server names every item's field by the list's path.
                Check(itemSchema, item, path, causes);
            }
        }
    }

    /// <summary>The JSON type the API server sees: an integral number within int64 is an integer, any other a number.</summary>
    private static string KindName(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => IsInt64(value) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static bool IsInt64(JsonNode value)
    {
        var text = value.ToJsonString();
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            return true;
        }

        // 4.0 or 4e2 decode to a whole float64, which the API server then treats as the integer it is.
        return decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && number == decimal.Truncate(number) && number is >= long.MinValue and <= long.MaxValue;
    }

    private static string Show(double number) =>
        number == Math.Truncate(number) && Math.Abs(number) < 1e15 ? ((long)number).ToString(CultureInfo.InvariantCulture) : number.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A string as Go's <c>%q</c> shows it in these messages (quotes, backslashes and control characters escaped).</summary>
    private static string Quote(string text)
    {
        var builder = new System.Text.StringBuilder("\"", text.Length + 2);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }

    /// <summary>
    /// Go's RE2 '$' never matches before a final newline, .NET's does: a trailing '$' becomes \\z. The static
    /// <see cref="Regex.IsMatch(string, string, RegexOptions, TimeSpan)"/> keeps recently used patterns compiled.
    /// </summary>
    private static bool MatchesAsInGo(string pattern, string text) =>
        Regex.IsMatch(text, pattern.EndsWith('$') && !pattern.EndsWith("\\$", StringComparison.Ordinal) ? pattern[..^1] + "\\z" : pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>Causes in the order found, each (field, constraint) once: the API server reports a repeated violation once.</summary>
    private sealed class Causes
    {
        private readonly HashSet<(string, string)> _seen = [];

        public List<(string Field, string Message)> List { get; } = [];

        public void Add(string field, string constraint, string message)
        {
            if (_seen.Add((field, constraint)))
            {
                List.Add((field, message));
            }
        }
    }
}
