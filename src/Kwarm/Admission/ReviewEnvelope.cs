using System.Buffers;
using System.Text.Json;

namespace Kwarm.Admission;

/// <summary>
/// The one pass over an AdmissionReview body: it proves the body is one well-formed JSON value (as
/// <see cref="JsonDocument"/> would, with the same messages), copies out the envelope — the review with its
/// <c>request</c> stripped of <c>object</c>, <c>oldObject</c> and <c>options</c>, a few hundred bytes — and reads the
/// decision's fields of <c>object</c> and <c>oldObject</c> on the way (<typeparamref name="TObject"/>: a
/// <see cref="WorkloadSnapshot"/> for the workload paths, a <see cref="NodeSnapshot"/> for <c>/mutate/nodes</c>). The rest
/// of the objects is skipped, not indexed or copied: a near-limit review costs no document the size of its Deployments,
/// and is tokenized once.
/// </summary>
/// <typeparam name="TObject">The few fields of the objects the path's decision reads.</typeparam>
/// <param name="RootKind">What the body is; only an object has an envelope worth reading.</param>
/// <param name="Json">The envelope as JSON text; the body's own bytes for everything kept, so escapes and duplicate fields read as they would there.</param>
/// <param name="Object">The snapshot of <c>request.object</c>; null when absent or JSON null.</param>
/// <param name="OldObject">The snapshot of <c>request.oldObject</c>; null when absent or JSON null.</param>
internal sealed record ReviewEnvelope<TObject>(JsonValueKind RootKind, ReadOnlyMemory<byte> Json, TObject? Object, TObject? OldObject)
    where TObject : class, IAdmittedObject<TObject>
{
    /// <exception cref="JsonException">The body is not one well-formed JSON value.</exception>
    public static ReviewEnvelope<TObject> Read(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = AdmissionReviewer.MaxDepth });
        reader.Read();
        var rootKind = KindOf(reader.TokenType);
        var envelope = new ArrayBufferWriter<byte>(512);
        TObject? updated = null;
        TObject? previous = null;
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            envelope.Write("{"u8);
            var first = true;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                var isRequest = reader.ValueTextEquals("request"u8);
                reader.Read();
                var valueStart = (int)reader.TokenStartIndex;
                Separate(envelope, ref first);
                if (isRequest)
                {
                    // The last "request" is the one that counts, as for a document: forget an earlier one's objects.
                    (updated, previous) = (null, null);
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        envelope.Write(body[nameStart..valueStart]);
                        (updated, previous) = CopyRequest(ref reader, body, envelope);
                        continue;
                    }
                }

                reader.Skip();
                envelope.Write(body[nameStart..TokenEnd(ref reader)]);
            }

            envelope.Write("}"u8);
        }
        else
        {
            reader.Skip();
        }

        // Past the root value: only whitespace may follow, or the reader throws as the document parser would.
        reader.Read();
        return new ReviewEnvelope<TObject>(rootKind, envelope.WrittenMemory, updated, previous);
    }

    /// <summary>Copies the request object without its three large fields, reading the two objects; the reader ends on its closing brace.</summary>
    private static (TObject? Object, TObject? OldObject) CopyRequest(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, ArrayBufferWriter<byte> envelope)
    {
        TObject? updated = null;
        TObject? previous = null;
        envelope.Write("{"u8);
        var first = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nameStart = (int)reader.TokenStartIndex;
            var field = reader.ValueTextEquals("object"u8) ? Field.Object
                : reader.ValueTextEquals("oldObject"u8) ? Field.OldObject
                : reader.ValueTextEquals("options"u8) ? Field.Options
                : Field.Other;
            reader.Read();
            var isNull = reader.TokenType == JsonTokenType.Null;
            switch (field)
            {
                // The last one given counts, as in a document; JSON null is no object.
                case Field.Object:
                    updated = isNull ? null : TObject.Read(ref reader);
                    break;
                case Field.OldObject:
                    previous = isNull ? null : TObject.Read(ref reader);
                    break;
                case Field.Options:
                    reader.Skip();
                    break;
                default:
                    reader.Skip();
                    Separate(envelope, ref first);
                    envelope.Write(body[nameStart..TokenEnd(ref reader)]);
                    break;
            }
        }

        envelope.Write("}"u8);
        return (updated, previous);
    }

    private enum Field
    {
        Other,
        Object,
        OldObject,
        Options,
    }

    private static void Separate(ArrayBufferWriter<byte> envelope, ref bool first)
    {
        if (!first)
        {
            envelope.Write(","u8);
        }

        first = false;
    }

    /// <summary>Where the token the reader is on ends in the body: after a string's closing quote, a literal's last byte, a bracket.</summary>
    private static int TokenEnd(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        return reader.TokenType switch
        {
            JsonTokenType.String => start + reader.ValueSpan.Length + 2,
            JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null => start + reader.ValueSpan.Length,
            _ => start + 1,
        };
    }

    private static JsonValueKind KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => JsonValueKind.Object,
        JsonTokenType.StartArray => JsonValueKind.Array,
        JsonTokenType.String => JsonValueKind.String,
        JsonTokenType.Number => JsonValueKind.Number,
        JsonTokenType.True => JsonValueKind.True,
        JsonTokenType.False => JsonValueKind.False,
        JsonTokenType.Null => JsonValueKind.Null,
        _ => JsonValueKind.Undefined,
    };
}
