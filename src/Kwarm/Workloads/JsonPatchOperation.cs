using System.Text;
using System.Text.Json;

namespace Kwarm.Workloads;

/// <summary>
/// One RFC 6902 operation, and the one writer of JSON Patch documents: the webhook's hold patch (<c>add</c> only) and
/// the hold controller's release and start-record patches (<c>test</c>, <c>replace</c>, <c>remove</c>, <c>add</c>).
/// </summary>
/// <param name="Op">The operation: <c>add</c>, <c>remove</c>, <c>replace</c> or <c>test</c>.</param>
/// <param name="Path">A JSON Pointer, already escaped (<see cref="EscapePointerToken"/>).</param>
/// <param name="Value">
/// A <see cref="bool"/>, an <see cref="int"/>, a <see cref="string"/>, a string map (<see cref="IReadOnlyDictionary{TKey,TValue}"/>,
/// written sorted by key), a <see cref="JsonElement"/> written as it is (a StatefulSet's or DaemonSet's update strategy), or
/// null for an operation without a value (<c>remove</c>).
/// </param>
public sealed record JsonPatchOperation(string Op, string Path, object? Value = null)
{
    private const string AnnotationsPath = "/metadata/annotations/";

    public static JsonPatchOperation Add(string path, bool value) => new("add", path, value);

    public static JsonPatchOperation Add(string path, string value) => new("add", path, value);

    public static JsonPatchOperation Add(string path, int value) => new("add", path, value);

    public static JsonPatchOperation Add(string path, JsonElement value) => new("add", path, value);

    public static JsonPatchOperation Add(string path, IReadOnlyDictionary<string, string> value) => new("add", path, value);

    /// <summary>RFC 6901: <c>~</c> becomes <c>~0</c> and <c>/</c> becomes <c>~1</c>, in that order.</summary>
    public static string EscapePointerToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
    }

    /// <summary>The pointer to one annotation of an object (<c>/metadata/annotations/kwarm.io~1hold</c>).</summary>
    public static string AnnotationPath(string key) => AnnotationsPath + EscapePointerToken(key);

    /// <summary>The patch document as UTF-8 JSON (the admission response sends it base64-encoded).</summary>
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
                switch (operation.Value)
                {
                    case null:
                        break;
                    case bool flag:
                        writer.WriteBoolean("value", flag);
                        break;
                    case int number:
                        writer.WriteNumber("value", number);
                        break;
                    case string text:
                        writer.WriteString("value", text);
                        break;
                    case JsonElement element:
                        writer.WritePropertyName("value");
                        element.WriteTo(writer);
                        break;
                    case IReadOnlyDictionary<string, string> map:
                        writer.WriteStartObject("value");
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

    /// <summary>The patch document as a string (the body of a PATCH request).</summary>
    public static string SerializeToString(IReadOnlyList<JsonPatchOperation> operations) => Encoding.UTF8.GetString(Serialize(operations));
}
