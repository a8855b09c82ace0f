using System.Text.Json;
using Kwarm.Resources;

namespace Kwarm.Admission;

/// <summary>
/// What the Node webhook (<c>/mutate/nodes</c>, issue #17) reads of a Node: only <c>spec.taints</c>, and of that only
/// whether it is there and whether the warming taint is among it. Read in one forward pass like
/// <see cref="WorkloadSnapshot"/>, and as leniently: a field of an unexpected JSON type counts as absent (the API server
/// validates the Node anyway); a field given twice counts by its last value.
/// </summary>
public sealed record NodeSnapshot : IAdmittedObject<NodeSnapshot>
{
    /// <summary><c>spec</c> is a JSON object: the taint can be added below it.</summary>
    public required bool HasSpec { get; init; }

    /// <summary><c>spec.taints</c> is a JSON array: the taint is appended to it rather than the array created.</summary>
    public required bool HasTaints { get; init; }

    /// <summary>
    /// A taint with key <c>kwarm.io/warming</c> and effect <c>NoSchedule</c> is there, whatever its value: the API server
    /// allows one taint per key and effect, and any such taint keeps pods off the node as Kwarm's does.
    /// </summary>
    public required bool HasWarmingTaint { get; init; }

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = AdmissionReviewer.MaxDepth };

    /// <exception cref="JsonException">The bytes are not one well-formed JSON value.</exception>
    public static NodeSnapshot Read(ReadOnlySpan<byte> node)
    {
        var reader = new Utf8JsonReader(node, ReaderOptions);
        reader.Read();
        return Read(ref reader);
    }

    /// <inheritdoc cref="IAdmittedObject{TSelf}.Read"/>
    public static NodeSnapshot Read(ref Utf8JsonReader reader)
    {
        var snapshot = new NodeSnapshot { HasSpec = false, HasTaints = false, HasWarmingTaint = false };
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return snapshot;
        }

        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("spec"u8))
            {
                reader.Read();
                snapshot = reader.TokenType == JsonTokenType.StartObject
                    ? ReadSpec(ref reader)
                    : new NodeSnapshot { HasSpec = false, HasTaints = false, HasWarmingTaint = false };
            }

            SkipValue(ref reader);
        }

        return snapshot;
    }

    private static NodeSnapshot ReadSpec(ref Utf8JsonReader reader)
    {
        var (hasTaints, hasWarmingTaint) = (false, false);
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("taints"u8))
            {
                reader.Read();
                hasTaints = reader.TokenType == JsonTokenType.StartArray;
                hasWarmingTaint = hasTaints && ReadTaints(ref reader);
            }

            SkipValue(ref reader);
        }

        return new NodeSnapshot { HasSpec = true, HasTaints = hasTaints, HasWarmingTaint = hasWarmingTaint };
    }

    /// <summary>Whether an entry of the taints array is the warming taint; the reader ends on the array's closing bracket.</summary>
    private static bool ReadTaints(ref Utf8JsonReader reader)
    {
        var found = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            string? key = null;
            string? effect = null;
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("key"u8))
                {
                    reader.Read();
                    key = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("effect"u8))
                {
                    reader.Read();
                    effect = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                SkipValue(ref reader);
            }

            found |= string.Equals(key, KwarmApi.WarmingTaintKey, StringComparison.Ordinal)
                && string.Equals(effect, KwarmApi.WarmingTaintEffect, StringComparison.Ordinal);
        }

        return found;
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    /// <summary>From a property name or a value, to the last token of that property's value.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.PropertyName)
        {
            reader.Read();
        }

        reader.Skip();
    }
}
