namespace Kwarm.Resources;

/// <summary>Names of Kwarm's API group and of the labels and annotations it writes on other objects (DESIGN §3).</summary>
public static class KwarmApi
{
    public const string Group = "kwarm.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;

    public const string EnabledLabel = "kwarm.io/enabled";
    public const string DeploymentLabel = "kwarm.io/deployment";

    /// <summary>On a StatefulSet's PrePullImages, as <see cref="DeploymentLabel"/> on a Deployment's.</summary>
    public const string StatefulSetLabel = "kwarm.io/statefulset";

    /// <summary>On a DaemonSet's PrePullImages, as <see cref="DeploymentLabel"/> on a Deployment's.</summary>
    public const string DaemonSetLabel = "kwarm.io/daemonset";
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

    /// <summary>
    /// On a held StatefulSet: the user's <c>spec.updateStrategy.rollingUpdate.partition</c> as the webhook saw it (a
    /// decimal number), or <c>none</c> when the field was absent. The release restores it.
    /// </summary>
    public const string PartitionAnnotation = "kwarm.io/partition";

    /// <summary>On a held DaemonSet: the user's <c>spec.updateStrategy</c> as compact JSON, as the webhook saw it. The release restores it.</summary>
    public const string UpdateStrategyAnnotation = "kwarm.io/update-strategy";

    /// <summary><c>"true"</c>: the release ends the hold but leaves the rollout paused (a person's own pause).</summary>
    public const string KeepPausedAnnotation = "kwarm.io/keep-paused";

    /// <summary>
    /// The startup taint a joining node carries until Kwarm has put the images its pods will need on it
    /// (<c>kwarm.io/warming=true:NoSchedule</c>, DESIGN §10). Its provisioner puts it on (or Kwarm's webhook with
    /// <c>--taint-new-nodes</c>); Kwarm only ever removes it.
    /// </summary>
    public const string WarmingTaintKey = "kwarm.io/warming";

    public const string WarmingTaintValue = "true";

    public const string WarmingTaintEffect = "NoSchedule";

    /// <summary>On a PrePullImage Kwarm made to warm joining nodes: <c>"true"</c>. Its pulls go before others on those nodes.</summary>
    public const string WarmupLabel = "kwarm.io/warmup";
}
