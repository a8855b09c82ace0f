using System.Text.Json;

namespace Kwarm.Admission;

/// <summary>One RFC 6902 <c>add</c> operation; the webhook never needs any other.</summary>
public sealed record JsonPatchOperation
{
    private JsonPatchOperation(string path, object value)
    {
        Path = path;
        Value = value;
    }

    public string Op => "add";

    /// <summary>A JSON Pointer, already escaped.</summary>
    public string Path { get; }

    /// <summary>A <see cref="bool"/>, a <see cref="string"/>, or a string map (<see cref="IReadOnlyDictionary{TKey,TValue}"/>).</summary>
    public object Value { get; }

    public static JsonPatchOperation Add(string path, bool value) => new(path, value);

    public static JsonPatchOperation Add(string path, string value) => new(path, value);

    public static JsonPatchOperation Add(string path, IReadOnlyDictionary<string, string> value) => new(path, value);

    /// <summary>RFC 6901: <c>~</c> becomes <c>~0</c> and <c>/</c> becomes <c>~1</c>, in that order.</summary>
    public static string EscapePointerToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
    }

    /// <summary>The patch document as UTF-8 JSON, as sent (base64) in the admission response.</summary>
    public static byte[] Serialize(IReadOnlyList<JsonPatchOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var operation in operations)
            {
                writer.WriteStartObject();
                writer.WriteString("op", operation.Op);
                writer.WriteString("path", operation.Path);
                writer.WritePropertyName("value");
                switch (operation.Value)
                {
                    case bool flag:
                        writer.WriteBooleanValue(flag);
                        break;
                    case string text:
                        writer.WriteStringValue(text);
                        break;
                    case IReadOnlyDictionary<string, string> map:
                        writer.WriteStartObject();
                        foreach (var (key, value) in map.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                        {
                            writer.WriteString(key, value);
                        }

                        writer.WriteEndObject();
                        break;
                    default:
                        throw new InvalidOperationException($"Unsupported JSON Patch value {operation.Value.GetType()}.");
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }
}
