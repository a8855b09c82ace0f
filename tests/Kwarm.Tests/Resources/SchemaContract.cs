using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>
/// Compares C# types with a CRD's OpenAPI schema, field by field. Kwarm's own types must match the schema in both
/// directions; embedded Kubernetes types (<c>V1LabelSelector</c>, <c>V1Toleration</c>, ...) only in one: every field
/// the schema declares must exist in the Kubernetes type with a compatible type (the schema may leave fields out).
/// </summary>
internal static class SchemaContract
{
    public sealed record SerialisedProperty(string Name, PropertyInfo Property);

    private static readonly NullabilityInfoContext Nullability = new();

    public static bool IsOwnType(Type type) => type.Namespace == typeof(PrePullPolicy).Namespace;

    /// <summary>The properties System.Text.Json writes for <paramref name="type"/>, with the names it writes them under.</summary>
    public static IEnumerable<SerialisedProperty> SerialisedProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod is not null && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Select(p => new SerialisedProperty(p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicyName(p.Name), p));

    /// <summary>Every mismatch between <paramref name="type"/> and <paramref name="schema"/>, as readable sentences.</summary>
    public static List<string> Mismatches(Type type, JsonObject schema, string path)
    {
        var problems = new List<string>();
        CompareObject(type, schema, path, problems);
        return problems;
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string JsonNamingPolicyName(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static void CompareObject(Type type, JsonObject schema, string path, List<string> problems)
    {
        var own = IsOwnType(type);
        var schemaProperties = schema["properties"] as JsonObject ?? [];
        var required = (schema["required"] as JsonArray ?? []).Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var csharp = SerialisedProperties(type).ToDictionary(p => p.Name, StringComparer.Ordinal);

        foreach (var (name, propertySchema) in schemaProperties)
        {
            if (!csharp.TryGetValue(name, out var property))
            {
                problems.Add($"{Join(path, name)}: in the schema but not in {type.Name}");
                continue;
            }

            CompareValue(property.Property.PropertyType, propertySchema!.AsObject(), Join(path, name), problems);
        }

        if (!own)
        {
            return;
        }

        foreach (var (name, property) in csharp)
        {
            if (property.Property.GetCustomAttribute<JsonPropertyNameAttribute>() is null)
            {
                problems.Add($"{Join(path, name)}: {type.Name}.{property.Property.Name} is serialised but has no [JsonPropertyName] (a computed member needs [JsonIgnore])");
            }

            if (!schemaProperties.ContainsKey(name))
            {
                problems.Add($"{Join(path, name)}: {type.Name}.{property.Property.Name} is not in the schema (the API server would prune it)");
                continue;
            }

            // A non-nullable C# member always has a value; the API object must then always have one too, or
            // reading an object that lacks it would invent a value and write it back.
            var isEnvelope = path.Length == 0 && name is "apiVersion" or "kind" or "metadata";
            if (!isEnvelope && !IsNullable(property.Property) && !required.Contains(name) && schemaProperties[name]?["default"] is null)
            {
                problems.Add($"{Join(path, name)}: {type.Name}.{property.Property.Name} is not nullable, so the schema must require it or give it a default");
            }
        }
    }

    private static void CompareValue(Type declared, JsonObject schema, string path, List<string> problems)
    {
        var type = Nullable.GetUnderlyingType(declared) ?? declared;
        var schemaType = schema["type"]?.GetValue<string>();
        var intOrString = schema["x-kubernetes-int-or-string"]?.GetValue<bool>() ?? false;

        void Expect(string expectedType, string? expectedFormat = null)
        {
            if (schemaType != expectedType)
            {
                problems.Add($"{path}: C# {type.Name} needs type {expectedType}, the schema says {schemaType ?? "nothing"}");
            }

            var format = schema["format"]?.GetValue<string>();
            if (format != expectedFormat)
            {
                problems.Add($"{path}: C# {type.Name} needs format {expectedFormat ?? "none"}, the schema says {format ?? "none"}");
            }
        }

        if (type == typeof(ResourceQuantity) || type == typeof(IntOrString))
        {
            if (!intOrString)
            {
                problems.Add($"{path}: C# {type.Name} needs x-kubernetes-int-or-string");
            }
        }
        else if (type == typeof(string))
        {
            Expect("string");
        }
        else if (type == typeof(bool))
        {
            Expect("boolean");
        }
        else if (type == typeof(int))
        {
            Expect("integer", "int32");
        }
        else if (type == typeof(long))
        {
            Expect("integer", "int64");
        }
        else if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            Expect("string", "date-time");
        }
        else if (type.IsEnum)
        {
            Expect("string");
            var schemaValues = (schema["enum"] as JsonArray ?? []).Select(v => v!.GetValue<string>()).Order(StringComparer.Ordinal);
            var csharpValues = Enum.GetNames(type).Order(StringComparer.Ordinal);
            if (!schemaValues.SequenceEqual(csharpValues))
            {
                problems.Add($"{path}: enum [{string.Join(", ", schemaValues)}] differs from C# {type.Name} [{string.Join(", ", csharpValues)}]");
            }
        }
        else if (DictionaryValueType(type) is { } valueType)
        {
            Expect("object");
            if (schema["properties"] is not null || schema["additionalProperties"] is not JsonObject valueSchema)
            {
                problems.Add($"{path}: C# {type.Name} is a map, the schema needs additionalProperties and no properties");
                return;
            }

            CompareValue(valueType, valueSchema, $"{path}[*]", problems);
        }
        else if (ListItemType(type) is { } itemType)
        {
            Expect("array");
            if (schema["items"] is not JsonObject itemSchema)
            {
                problems.Add($"{path}: an array needs items");
                return;
            }

            CompareValue(itemType, itemSchema, $"{path}[*]", problems);
        }
        else if (type.IsClass)
        {
            Expect("object");
            CompareObject(type, schema, path, problems);
        }
        else
        {
            problems.Add($"{path}: no rule for C# {type.Name}");
        }
    }

    private static bool IsNullable(PropertyInfo property) =>
        Nullable.GetUnderlyingType(property.PropertyType) is not null
        || (!property.PropertyType.IsValueType && Nullability.Create(property).ReadState != NullabilityState.NotNull);

    private static Type? DictionaryValueType(Type type) =>
        Interfaces(type).FirstOrDefault(i => i.GetGenericTypeDefinition() == typeof(IDictionary<,>) && i.GenericTypeArguments[0] == typeof(string))
            ?.GenericTypeArguments[1];

    private static Type? ListItemType(Type type) =>
        type == typeof(string)
            ? null
            : Interfaces(type).FirstOrDefault(i => i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GenericTypeArguments[0];

    private static IEnumerable<Type> Interfaces(Type type) =>
        (type.IsInterface ? type.GetInterfaces().Append(type) : type.GetInterfaces()).Where(i => i.IsGenericType);
}
