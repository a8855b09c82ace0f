using System.Buffers;
using System.Text.Json;

namespace Kwarm.Admission;

/// <summary>
/// <c>spec.updateStrategy</c> of a StatefulSet or DaemonSet as the webhook saw it: what the hold decision reads, and the
/// whole object as compact JSON (what a DaemonSet hold records in <c>kwarm.io/update-strategy</c>).
/// </summary>
/// <param name="Type">Null when absent (the API server defaults it to RollingUpdate before admission).</param>
/// <param name="HasRollingUpdate">Whether <c>rollingUpdate</c> is an object (a patch adds the partition inside it, or adds it).</param>
/// <param name="Partition">A StatefulSet's <c>rollingUpdate.partition</c>; null when absent or not a 32-bit integer.</param>
/// <param name="Json">The strategy as compact JSON; null when it was larger than <see cref="MaxJsonBytes"/> (not a real object: the API server's is tiny).</param>
public sealed record UpdateStrategySnapshot(string? Type, bool HasRollingUpdate, int? Partition, string? Json)
{
    /// <summary>A real strategy is under 100 bytes; anything longer is not copied, so a hostile review costs no memory here.</summary>
    public const int MaxJsonBytes = 4096;

    /// <summary>Reads the object the reader is on, leaving it on the object's last token.</summary>
    /// <exception cref="JsonException">The value is not well-formed JSON.</exception>
    public static UpdateStrategySnapshot Read(ref Utf8JsonReader reader)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var complete = true;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            // The reader is on the object's start; its end is the EndObject back at this depth.
            var depth = reader.CurrentDepth;
            while (true)
            {
                if (complete)
                {
                    Copy(ref reader, writer);
                    complete = writer.BytesCommitted + writer.BytesPending <= MaxJsonBytes;
                }

                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth)
                {
                    break;
                }

                reader.Read();
            }
        }

        if (!complete)
        {
            return new UpdateStrategySnapshot(null, HasRollingUpdate: false, Partition: null, Json: null);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new UpdateStrategySnapshot(null, HasRollingUpdate: false, Partition: null, Json: null);
        }

        var type = root.TryGetProperty("type", out var typeValue) && typeValue.ValueKind == JsonValueKind.String ? typeValue.GetString() : null;
        var hasRolling = root.TryGetProperty("rollingUpdate", out var rolling) && rolling.ValueKind == JsonValueKind.Object;
        int? partition = hasRolling && rolling.TryGetProperty("partition", out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : null;
        return new UpdateStrategySnapshot(type, hasRolling, partition, System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void Copy(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                writer.WriteStartObject();
                break;
            case JsonTokenType.EndObject:
                writer.WriteEndObject();
                break;
            case JsonTokenType.StartArray:
                writer.WriteStartArray();
                break;
            case JsonTokenType.EndArray:
                writer.WriteEndArray();
                break;
            case JsonTokenType.PropertyName:
                writer.WritePropertyName(reader.GetString()!);
                break;
            case JsonTokenType.String:
                writer.WriteStringValue(reader.GetString());
                break;
            case JsonTokenType.Number:
                writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                break;
            case JsonTokenType.True or JsonTokenType.False:
                writer.WriteBooleanValue(reader.TokenType == JsonTokenType.True);
                break;
            case JsonTokenType.Null:
                writer.WriteNullValue();
                break;
        }
    }
}
