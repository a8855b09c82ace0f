using System.Collections.Frozen;
using System.Text.Json;
using Kwarm.Resources;

namespace Kwarm.Admission;

/// <summary>
/// The few fields of a Deployment the hold decision reads, taken straight from the raw admission JSON.
/// Reading is lenient: a field of an unexpected JSON type counts as absent, so an odd object gets a
/// "no patch" answer (the API server validates it anyway) instead of an error.
/// </summary>
public sealed record DeploymentSnapshot
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

    /// <summary>Null when absent (the API server defaults it to 1).</summary>
    public required int? Replicas { get; init; }

    /// <summary>Images of containers and init containers, distinct and sorted ordinally.</summary>
    public required IReadOnlyList<string> Images { get; init; }

    public string? HoldId => Annotation(KwarmApi.HoldAnnotation);

    public string? HoldPolicy => Annotation(KwarmApi.PolicyAnnotation);

    public string? ReleasedHoldId => Annotation(KwarmApi.ReleasedAnnotation);

    /// <summary>The hold controller's record of when the hold began (<c>kwarm.io/hold-started</c>), verbatim.</summary>
    public string? HoldStarted => Annotation(KwarmApi.HoldStartedAnnotation);

    public bool Skipped => string.Equals(Annotation(KwarmApi.SkipAnnotation), "true", StringComparison.Ordinal);

    /// <summary>A hold Kwarm placed and has not released: paused, with the hold annotation.</summary>
    public bool HasActiveHold => Paused && HoldId is not null;

    /// <summary>Paused by someone else: Kwarm must neither hold it nor, later, unpause it.</summary>
    public bool PausedWithoutHold => Paused && HoldId is null;

    public bool HasSameImages(DeploymentSnapshot other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Images.SequenceEqual(other.Images, StringComparer.Ordinal);
    }

    private string? Annotation(string key) => KwarmAnnotations.TryGetValue(key, out var value) ? value : null;

    private static readonly string[] ReadAnnotations =
        [KwarmApi.HoldAnnotation, KwarmApi.PolicyAnnotation, KwarmApi.ReleasedAnnotation, KwarmApi.SkipAnnotation, KwarmApi.HoldStartedAnnotation];

    private static readonly IDictionary<string, string> Empty = FrozenDictionary<string, string>.Empty;

    public static DeploymentSnapshot Read(JsonElement deployment)
    {
        var metadata = Property(deployment, "metadata", JsonValueKind.Object);
        var annotations = metadata is { } meta ? Property(meta, "annotations", JsonValueKind.Object) : null;
        var spec = Property(deployment, "spec", JsonValueKind.Object);

        var paused = spec is { } s && s.TryGetProperty("paused", out var pausedValue) && pausedValue.ValueKind == JsonValueKind.True;
        int? replicas = spec is { } sr && sr.TryGetProperty("replicas", out var replicasValue)
            && replicasValue.ValueKind == JsonValueKind.Number && replicasValue.TryGetInt32(out var count) ? count : null;

        var images = new SortedSet<string>(StringComparer.Ordinal);
        if (spec is { } sp && Property(sp, "template", JsonValueKind.Object) is { } template
            && Property(template, "spec", JsonValueKind.Object) is { } podSpec)
        {
            AddImages(podSpec, "initContainers", images);
            AddImages(podSpec, "containers", images);
        }

        return new DeploymentSnapshot
        {
            Labels = metadata is { } m ? StringMap(Property(m, "labels", JsonValueKind.Object)) : Empty,
            KwarmAnnotations = KwarmOnly(annotations),
            HasAnnotationsMap = annotations is not null,
            Paused = paused,
            Replicas = replicas,
            Images = [.. images],
        };
    }

    private static void AddImages(JsonElement podSpec, string field, SortedSet<string> images)
    {
        if (Property(podSpec, field, JsonValueKind.Array) is not { } containers)
        {
            return;
        }

        foreach (var container in containers.EnumerateArray())
        {
            if (container.ValueKind == JsonValueKind.Object
                && container.TryGetProperty("image", out var image)
                && image.ValueKind == JsonValueKind.String
                && image.GetString() is { Length: > 0 } reference)
            {
                images.Add(reference);
            }
        }
    }

    private static JsonElement? Property(JsonElement element, string name, JsonValueKind kind) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == kind ? value : null;

    private static IDictionary<string, string> KwarmOnly(JsonElement? annotations)
    {
        if (annotations is not { } element)
        {
            return Empty;
        }

        Dictionary<string, string>? result = null;
        foreach (var key in ReadAnnotations)
        {
            if (element.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String)
            {
                (result ??= new Dictionary<string, string>(StringComparer.Ordinal))[key] = value.GetString()!;
            }
        }

        return result ?? Empty;
    }

    private static IDictionary<string, string> StringMap(JsonElement? map)
    {
        if (map is not { } element)
        {
            return Empty;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                result[property.Name] = property.Value.GetString()!;
            }
        }

        return result;
    }
}
