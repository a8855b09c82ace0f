using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Text.Json;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Admission;

/// <summary>
/// The few fields of a workload (Deployment, StatefulSet, DaemonSet) the hold decision reads, taken straight from the raw
/// admission JSON. The snapshot does not know its kind (the review's <c>kind</c> may come after its objects): the decision
/// reads the fields of its kind (<c>spec.paused</c> of a Deployment, <c>spec.updateStrategy</c> of the others).
/// Reading is lenient: a field of an unexpected JSON type counts as absent, so an odd object gets a
/// "no patch" answer (the API server validates it anyway) instead of an error.
/// </summary>
public sealed record WorkloadSnapshot : IAdmittedObject<WorkloadSnapshot>
{
    public required IDictionary<string, string> Labels { get; init; }

    /// <summary>
    /// Only the <c>kwarm.io/</c> annotations the decision reads: the others (a <c>last-applied-configuration</c> can
    /// be as large as the object) are never copied out of the request.
    /// </summary>
    public required IDictionary<string, string> KwarmAnnotations { get; init; }

    /// <summary>False when <c>metadata.annotations</c> is absent: the patch must then create the map.</summary>
    public required bool HasAnnotationsMap { get; init; }

    /// <summary>Only a JSON <c>true</c> counts; the API server omits <c>paused: false</c>.</summary>
    public required bool Paused { get; init; }

    /// <summary>Null when absent (the API server defaults it to 1; a DaemonSet has none).</summary>
    public required int? Replicas { get; init; }

    /// <summary><c>spec.updateStrategy</c> (StatefulSet, DaemonSet); null when absent or not an object.</summary>
    public UpdateStrategySnapshot? UpdateStrategy { get; init; }

    /// <summary>
    /// Images of containers and init containers as one identity each (<see cref="ImageIdentity.Canonical"/>:
    /// <c>nginx:1.27.1</c> and <c>docker.io/library/nginx:1.27.1</c> are one image), distinct and sorted ordinally.
    /// A reference that does not parse is kept as written.
    /// </summary>
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>References no runtime could pull, each with why (the API server accepts any non-empty string).</summary>
    public IReadOnlyList<string> UnparsableImages { get; init; } = [];

    public string? HoldId => Annotation(KwarmApi.HoldAnnotation);

    public string? HoldPolicy => Annotation(KwarmApi.PolicyAnnotation);

    public string? ReleasedHoldId => Annotation(KwarmApi.ReleasedAnnotation);

    /// <summary>The hold controller's record of when the hold began (<c>kwarm.io/hold-started</c>), verbatim.</summary>
    public string? HoldStarted => Annotation(KwarmApi.HoldStartedAnnotation);

    /// <summary>The user's value the webhook recorded on a held StatefulSet (<c>kwarm.io/partition</c>) or DaemonSet (<c>kwarm.io/update-strategy</c>).</summary>
    public string? Recorded(string annotation) => Annotation(annotation);

    public bool Skipped => string.Equals(Annotation(KwarmApi.SkipAnnotation), "true", StringComparison.Ordinal);

    /// <summary>A Deployment hold Kwarm placed and has not released: paused, with the hold annotation.</summary>
    public bool HasActiveHold => Paused && HoldId is not null;

    /// <summary>A Deployment paused by someone else: Kwarm must neither hold it nor, later, unpause it.</summary>
    public bool PausedWithoutHold => Paused && HoldId is null;

    public bool HasSameImages(WorkloadSnapshot other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Images.SequenceEqual(other.Images, StringComparer.Ordinal);
    }

    private string? Annotation(string key) => KwarmAnnotations.TryGetValue(key, out var value) ? value : null;

    private static readonly string[] ReadAnnotations =
        [
            KwarmApi.HoldAnnotation, KwarmApi.PolicyAnnotation, KwarmApi.ReleasedAnnotation, KwarmApi.SkipAnnotation, KwarmApi.HoldStartedAnnotation,
            KwarmApi.PartitionAnnotation, KwarmApi.UpdateStrategyAnnotation,
        ];

    private static readonly IDictionary<string, string> Empty = FrozenDictionary<string, string>.Empty;

    /// <summary>As deep as the webhook's parse of the whole review allows (<see cref="AdmissionReviewer"/>).</summary>
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = AdmissionReviewer.MaxDepth };

    public static WorkloadSnapshot Read(JsonElement deployment) => Read(JsonMarshal.GetRawUtf8Value(deployment));

    /// <summary>
    /// Reads the snapshot from the object's JSON in one forward pass: everything else (the pod template's env, a
    /// <c>last-applied-configuration</c> annotation, managedFields — nearly all of a large object) is skipped without
    /// being copied or indexed. A field given twice counts by its last value, as with <see cref="JsonElement"/>.
    /// </summary>
    /// <exception cref="JsonException">The bytes are not one well-formed JSON value.</exception>
    public static WorkloadSnapshot Read(ReadOnlySpan<byte> deployment)
    {
        var reader = new Utf8JsonReader(deployment, ReaderOptions);
        reader.Read();
        return Read(ref reader);
    }

    /// <summary>
    /// Reads the value the reader is on (its first token), leaving the reader on the value's last token: the way the
    /// webhook reads <c>object</c> and <c>oldObject</c> in its one pass over the body (<see cref="ReviewEnvelope"/>).
    /// </summary>
    /// <exception cref="JsonException">The value is not well-formed JSON.</exception>
    public static WorkloadSnapshot Read(ref Utf8JsonReader reader)
    {
        var metadata = new MetadataFields(Empty, Empty, HasAnnotationsMap: false);
        var spec = new SpecFields(Paused: false, Replicas: null, InitImages: [], Images: [], Strategy: null);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
        }
        else
        {
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("metadata"u8))
                {
                    reader.Read();
                    metadata = reader.TokenType == JsonTokenType.StartObject ? ReadMetadata(ref reader) : new MetadataFields(Empty, Empty, HasAnnotationsMap: false);
                }
                else if (reader.ValueTextEquals("spec"u8))
                {
                    reader.Read();
                    spec = reader.TokenType == JsonTokenType.StartObject ? ReadSpec(ref reader) : new SpecFields(Paused: false, Replicas: null, InitImages: [], Images: [], Strategy: null);
                }

                SkipValue(ref reader);
            }
        }

        var images = PodTemplateImages.Of(spec.InitImages, spec.Images);

        return new WorkloadSnapshot
        {
            UpdateStrategy = spec.Strategy,
            Labels = metadata.Labels,
            KwarmAnnotations = metadata.KwarmAnnotations,
            HasAnnotationsMap = metadata.HasAnnotationsMap,
            Paused = spec.Paused,
            Replicas = spec.Replicas,
            Images = images.Images,
            UnparsableImages = images.Problems,
        };
    }

    private readonly record struct MetadataFields(IDictionary<string, string> Labels, IDictionary<string, string> KwarmAnnotations, bool HasAnnotationsMap);

    private readonly record struct SpecFields(bool Paused, int? Replicas, IReadOnlyList<string> InitImages, IReadOnlyList<string> Images, UpdateStrategySnapshot? Strategy);

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

    private static MetadataFields ReadMetadata(ref Utf8JsonReader reader)
    {
        var fields = new MetadataFields(Empty, Empty, HasAnnotationsMap: false);
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("labels"u8))
            {
                reader.Read();
                fields = fields with { Labels = reader.TokenType == JsonTokenType.StartObject ? ReadStringMap(ref reader) : Empty };
            }
            else if (reader.ValueTextEquals("annotations"u8))
            {
                reader.Read();
                var isMap = reader.TokenType == JsonTokenType.StartObject;
                fields = fields with { KwarmAnnotations = isMap ? ReadKwarmAnnotations(ref reader) : Empty, HasAnnotationsMap = isMap };
            }

            SkipValue(ref reader);
        }

        return fields;
    }

    private static SpecFields ReadSpec(ref Utf8JsonReader reader)
    {
        var fields = new SpecFields(Paused: false, Replicas: null, InitImages: [], Images: [], Strategy: null);
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("paused"u8))
            {
                reader.Read();
                fields = fields with { Paused = reader.TokenType == JsonTokenType.True };
            }
            else if (reader.ValueTextEquals("replicas"u8))
            {
                reader.Read();
                fields = fields with { Replicas = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var count) ? count : null };
            }
            else if (reader.ValueTextEquals("updateStrategy"u8))
            {
                reader.Read();
                fields = fields with { Strategy = reader.TokenType == JsonTokenType.StartObject ? UpdateStrategySnapshot.Read(ref reader) : null };
            }
            else if (reader.ValueTextEquals("template"u8))
            {
                reader.Read();
                var (init, containers) = reader.TokenType == JsonTokenType.StartObject ? ReadTemplate(ref reader) : ([], []);
                fields = fields with { InitImages = init, Images = containers };
            }

            SkipValue(ref reader);
        }

        return fields;
    }

    private static (IReadOnlyList<string> Init, IReadOnlyList<string> Containers) ReadTemplate(ref Utf8JsonReader reader)
    {
        (IReadOnlyList<string> Init, IReadOnlyList<string> Containers) images = ([], []);
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("spec"u8))
            {
                reader.Read();
                images = ([], []);
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    while (NextProperty(ref reader))
                    {
                        if (reader.ValueTextEquals("initContainers"u8))
                        {
                            reader.Read();
                            images = images with { Init = ReadImages(ref reader) };
                        }
                        else if (reader.ValueTextEquals("containers"u8))
                        {
                            reader.Read();
                            images = images with { Containers = ReadImages(ref reader) };
                        }

                        SkipValue(ref reader);
                    }
                }
            }

            SkipValue(ref reader);
        }

        return images;
    }

    /// <summary>The non-empty <c>image</c> of each container object of an array; anything but an array has none.</summary>
    private static List<string> ReadImages(ref Utf8JsonReader reader)
    {
        var images = new List<string>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return images;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            string? image = null;
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("image"u8))
                {
                    reader.Read();
                    image = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                SkipValue(ref reader);
            }

            if (image is { Length: > 0 })
            {
                images.Add(image);
            }
        }

        return images;
    }

    /// <summary>Only the annotations the decision reads; the names of the others are compared, never copied.</summary>
    private static IDictionary<string, string> ReadKwarmAnnotations(ref Utf8JsonReader reader)
    {
        Dictionary<string, string>? result = null;
        while (NextProperty(ref reader))
        {
            var key = ReadAnnotationNamed(ref reader);
            reader.Read();
            if (key is not null)
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    (result ??= new Dictionary<string, string>(StringComparer.Ordinal))[key] = reader.GetString()!;
                }
                else
                {
                    result?.Remove(key);
                }
            }

            reader.Skip();
        }

        return result ?? Empty;
    }

    private static string? ReadAnnotationNamed(ref Utf8JsonReader reader)
    {
        foreach (var candidate in ReadAnnotations)
        {
            if (reader.ValueTextEquals(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static Dictionary<string, string> ReadStringMap(ref Utf8JsonReader reader)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (NextProperty(ref reader))
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                result[name] = reader.GetString()!;
            }

            reader.Skip();
        }

        return result;
    }
}
