using System.Text.Json.Serialization;
using k8s;

namespace Kwarm.Resources;

public sealed record HoldSpec
{
    public const string DefaultMaxDuration = "15m";

    /// <summary>False: pre-pull on image change without pausing the rollout.</summary>
    [JsonPropertyName("enabled")]
    public bool? Enabled { get; set; }

    [JsonPropertyName("onCreate")]
    public bool? OnCreate { get; set; }

    /// <summary>A hold is always released by then (fail open). Go duration.</summary>
    [JsonPropertyName("maxDuration")]
    public string? MaxDuration { get; set; }

    [JsonPropertyName("onFailure")]
    public HoldFailureAction? OnFailure { get; set; }

    /// <summary>Default true: a changed image pauses the rollout.</summary>
    [JsonIgnore]
    public bool EffectiveEnabled => Enabled ?? true;

    /// <summary>Default false: a new Deployment is not held.</summary>
    [JsonIgnore]
    public bool EffectiveOnCreate => OnCreate ?? false;

    /// <summary><see cref="MaxDuration"/> when it is a Go duration longer than zero and at most 24 hours, else 15 minutes.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveMaxDuration => PullDefaults.PositiveDurationOrDefault(MaxDuration, DefaultMaxDuration);

    /// <summary>Default <see cref="HoldFailureAction.Release"/>.</summary>
    [JsonIgnore]
    public HoldFailureAction EffectiveOnFailure =>
        OnFailure is { } action && Enum.IsDefined(action) ? action : HoldFailureAction.Release;

    /// <summary>A copy with every field set to its effective value.</summary>
    public HoldSpec WithDefaults() => new()
    {
        Enabled = EffectiveEnabled,
        OnCreate = EffectiveOnCreate,
        MaxDuration = PullDefaults.IsUsableDuration(MaxDuration, out _) ? MaxDuration : DefaultMaxDuration,
        OnFailure = EffectiveOnFailure,
    };

    internal IEnumerable<string> Validate(string fieldPath)
    {
        if (PullDefaults.DescribeInvalidPositiveDuration(MaxDuration, fieldPath + ".maxDuration") is { } problem)
        {
            yield return problem;
        }

        if (OnFailure is { } action && !Enum.IsDefined(action))
        {
            yield return $"{fieldPath}.onFailure: {(int)action} is not Release or Wait; Release is used";
        }
    }
}
