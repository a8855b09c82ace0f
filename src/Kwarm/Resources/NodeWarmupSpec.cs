using System.Text.Json.Serialization;

namespace Kwarm.Resources;

/// <summary>
/// <c>PrePullPolicy.spec.nodeWarmup</c> (DESIGN §10): whether nodes that join with the warming taint
/// (<see cref="KwarmApi.WarmingTaintKey"/>) get this policy's workloads' images before the taint is lifted, for how long
/// at most, and which images besides.
/// </summary>
public sealed record NodeWarmupSpec
{
    public const string DefaultMaxDuration = "10m";

    /// <summary>Default false: the policy asks nothing of joining nodes.</summary>
    [JsonPropertyName("enabled")]
    public bool? Enabled { get; set; }

    /// <summary>The taint is lifted by then, warm or not, counted from the Node's creationTimestamp (fail open). Go duration.</summary>
    [JsonPropertyName("maxDuration")]
    public string? MaxDuration { get; set; }

    /// <summary>References every warming node gets besides the selected workloads' images.</summary>
    [JsonPropertyName("images")]
    public IList<string>? Images { get; set; }

    [JsonIgnore]
    public bool EffectiveEnabled => Enabled ?? false;

    /// <summary><see cref="MaxDuration"/> when it is a Go duration longer than zero and at most 24 hours, else 10 minutes.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveMaxDuration => PullDefaults.PositiveDurationOrDefault(MaxDuration, DefaultMaxDuration);

    /// <summary>The extra images that are valid references, in order, without duplicates (by normalised identity).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> EffectiveImages =>
        (Images ?? []).Where(ImageReference.IsValid).DistinctBy(image => ImageIdentity.TryParse(image, out var identity, out _) ? identity.Reference : image).ToList();

    /// <summary>A copy with every field set to its effective value.</summary>
    public NodeWarmupSpec WithDefaults() => new()
    {
        Enabled = EffectiveEnabled,
        MaxDuration = PullDefaults.IsUsableDuration(MaxDuration, out _) ? MaxDuration : DefaultMaxDuration,
        Images = [.. EffectiveImages],
    };

    internal IEnumerable<string> Validate(string fieldPath)
    {
        if (PullDefaults.DescribeInvalidPositiveDuration(MaxDuration, fieldPath + ".maxDuration") is { } problem)
        {
            yield return problem;
        }

        foreach (var (image, index) in (Images ?? []).Select((image, index) => (image, index)))
        {
            if (ImageReference.Describe(image) is { } bad)
            {
                yield return $"{fieldPath}.images[{index}]: {bad}; ignored";
            }
        }
    }
}
