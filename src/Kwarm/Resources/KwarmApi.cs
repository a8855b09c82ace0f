namespace Kwarm.Resources;

/// <summary>Names of Kwarm's API group and of the labels and annotations it writes on other objects (DESIGN §3).</summary>
public static class KwarmApi
{
    public const string Group = "kwarm.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;

    public const string EnabledLabel = "kwarm.io/enabled";
    public const string DeploymentLabel = "kwarm.io/deployment";
    public const string HoldLabel = "kwarm.io/hold";

    public const string HoldAnnotation = "kwarm.io/hold";
    public const string PolicyAnnotation = "kwarm.io/policy";
    public const string ReleasedAnnotation = "kwarm.io/released";
    public const string ReleaseAnnotation = "kwarm.io/release";
    public const string SkipAnnotation = "kwarm.io/skip";

    /// <summary>
    /// <c>&lt;hold id&gt;@&lt;RFC 3339 time&gt;</c>: when the hold controller first saw the hold. The hold's deadline
    /// (<c>hold.maxDuration</c>) counts from it, so no deletion, TTL, restart or failover can move it.
    /// </summary>
    public const string HoldStartedAnnotation = "kwarm.io/hold-started";

    /// <summary><c>"true"</c>: the release ends the hold but leaves the rollout paused (a person's own pause).</summary>
    public const string KeepPausedAnnotation = "kwarm.io/keep-paused";
}
