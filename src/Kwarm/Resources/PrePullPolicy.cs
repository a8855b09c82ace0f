using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

/// <summary>
/// Cluster-scoped: which Deployments Kwarm holds and how it pre-pulls their images (DESIGN §2).
/// Optional fields stay nullable so that an object read from the API server is written back
/// byte for byte; <see cref="PrePullPolicySpec"/> exposes the effective values with defaults applied.
/// </summary>
public sealed record PrePullPolicy : IKubernetesObject<V1ObjectMeta>, ISpec<PrePullPolicySpec>, IStatus<PrePullPolicyStatus?>
{
    public const string KubeGroup = KwarmApi.Group;
    public const string KubeVersion = KwarmApi.Version;
    public const string KubeKind = "PrePullPolicy";
    public const string KubePluralName = "prepullpolicies";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = KwarmApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public PrePullPolicySpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public PrePullPolicyStatus? Status { get; set; }
}

public sealed record PrePullPolicySpec
{
    [JsonPropertyName("selector")]
    public DeploymentSelector? Selector { get; set; }

    /// <summary>Nodes eligible for pre-pull; null means every Ready, schedulable node.</summary>
    [JsonPropertyName("nodeSelector")]
    public V1LabelSelector? NodeSelector { get; set; }

    [JsonPropertyName("resources")]
    public V1ResourceRequirements? Resources { get; set; }

    [JsonPropertyName("retry")]
    public RetrySpec? Retry { get; set; }

    /// <summary>Per-node attempt timeout as a Go duration (<c>90s</c>, <c>10m</c>, <c>1h30m</c>).</summary>
    [JsonPropertyName("timeout")]
    public string? Timeout { get; set; }

    [JsonPropertyName("imagePullSecrets")]
    public PolicyImagePullSecrets? ImagePullSecrets { get; set; }

    [JsonPropertyName("hold")]
    public HoldSpec? Hold { get; set; }

    [JsonPropertyName("priorityClassName")]
    public string? PriorityClassName { get; set; }

    /// <summary>Per-node attempt timeout: <see cref="Timeout"/> or 10 minutes.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveTimeout => PullDefaults.EffectiveTimeout(Timeout);

    /// <summary>Retry settings with both fields set (max attempts 3, backoff 30 s unless configured).</summary>
    [JsonIgnore]
    public RetrySpec EffectiveRetry => (Retry ?? new RetrySpec()).WithDefaults();

    /// <summary>Pull-pod resources with the 100m / 64Mi defaults filled in (see <see cref="PullDefaults.EffectiveResources"/>).</summary>
    [JsonIgnore]
    public V1ResourceRequirements EffectiveResources => PullDefaults.EffectiveResources(Resources);

    /// <summary>Whether the Deployment's pod-template and service-account pull secrets apply (default true).</summary>
    [JsonIgnore]
    public bool EffectiveInheritImagePullSecrets => ImagePullSecrets?.EffectiveInherit ?? true;

    /// <summary>Secrets added to every pull pod on top of the inherited ones; never null.</summary>
    [JsonIgnore]
    public IReadOnlyList<V1LocalObjectReference> EffectiveAdditionalImagePullSecrets =>
        ImagePullSecrets?.Additional?.ToArray() ?? [];

    /// <summary>Hold settings with every field set (enabled, not on create, 15 minutes, release on failure unless configured).</summary>
    [JsonIgnore]
    public HoldSpec EffectiveHold => (Hold ?? new HoldSpec()).WithDefaults();

    /// <summary>
    /// Whether this policy applies to a Deployment. The schema requires a selector; a policy without one (built in
    /// code) selects nothing rather than everything.
    /// </summary>
    public bool SelectsDeployment(string namespaceName, IDictionary<string, string>? labels) =>
        Selector is not null && Selector.Matches(namespaceName, labels);

    /// <summary>Whether a node with <paramref name="nodeLabels"/> is eligible for pre-pull; no node selector means every node.</summary>
    public bool SelectsNode(IDictionary<string, string>? nodeLabels) =>
        NodeSelector is null || LabelSelectors.Matches(NodeSelector, nodeLabels);

    /// <summary>The PriorityClass of the pull pods: <see cref="PriorityClassName"/> when it is a valid name, else none.</summary>
    [JsonIgnore]
    public string? EffectivePriorityClassName =>
        !string.IsNullOrEmpty(PriorityClassName) && KubernetesNames.DescribeInvalidDnsSubdomain(PriorityClassName) is null ? PriorityClassName : null;

    /// <summary>
    /// Problems with values the schema cannot catch (a zero duration, a selector requirement without values, a
    /// <c>matchLabels</c> key on Kubernetes 1.24, where the CEL rule that checks it is not run) or that bypassed it (an
    /// object stored before the CRD was tightened, one built in code). Each names its field; the effective accessors
    /// fall back to the default for such a value, and a malformed selector requirement selects nothing.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Selector is null)
        {
            problems.Add("spec.selector: a selector is required ({} selects every Deployment); this policy selects nothing");
        }

        problems.AddRange(LabelSelectors.DescribeSelector(Selector?.MatchLabels, Selector?.MatchExpressions, "spec.selector"));
        problems.AddRange((Selector?.Namespaces ?? [])
            .Select((name, index) => KubernetesNames.DescribeInvalidDnsLabel(name) is { } bad ? $"spec.selector.namespaces[{index}]: {bad}" : null)
            .OfType<string>());
        problems.AddRange(LabelSelectors.DescribeSelector(NodeSelector?.MatchLabels, NodeSelector?.MatchExpressions, "spec.nodeSelector"));
        problems.AddRange(PullDefaults.DescribeUnusableResources(Resources, "spec.resources"));
        AddIfNotNull(problems, PullDefaults.DescribeInvalidTimeout(Timeout, "spec.timeout"));
        AddIfNotNull(problems, Retry?.Validate("spec.retry"));
        AddIfNotNull(problems, Hold?.Validate("spec.hold"));
        if (!string.IsNullOrEmpty(PriorityClassName) && KubernetesNames.DescribeInvalidDnsSubdomain(PriorityClassName) is { } badClass)
        {
            problems.Add($"spec.priorityClassName: {badClass}; pull pods get no PriorityClass");
        }

        return problems;
    }

    private static void AddIfNotNull(List<string> problems, string? problem)
    {
        if (problem is not null)
        {
            problems.Add(problem);
        }
    }

    private static void AddIfNotNull(List<string> problems, IEnumerable<string>? more)
    {
        if (more is not null)
        {
            problems.AddRange(more);
        }
    }
}

/// <summary>Label-selector semantics over Deployment labels, optionally limited to some namespaces.</summary>
public sealed record DeploymentSelector
{
    [JsonPropertyName("matchLabels")]
    public IDictionary<string, string>? MatchLabels { get; set; }

    [JsonPropertyName("matchExpressions")]
    public IList<V1LabelSelectorRequirement>? MatchExpressions { get; set; }

    /// <summary>Namespaces the policy applies to; null or empty means all.</summary>
    [JsonPropertyName("namespaces")]
    public IList<string>? Namespaces { get; set; }

    /// <summary>True when <paramref name="namespaceName"/> is one of <see cref="Namespaces"/>, or when that list is empty.</summary>
    public bool IncludesNamespace(string namespaceName) =>
        Namespaces is not { Count: > 0 } || Namespaces.Contains(namespaceName, StringComparer.Ordinal);

    /// <summary>A Deployment in <paramref name="namespaceName"/> with <paramref name="labels"/> is selected; an empty selector selects all.</summary>
    public bool Matches(string namespaceName, IDictionary<string, string>? labels) =>
        IncludesNamespace(namespaceName) && LabelSelectors.Matches(MatchLabels, MatchExpressions, labels);
}

public sealed record RetrySpec
{
    public const int DefaultMaxAttempts = 3;
    public const int DefaultBackoffSeconds = 30;

    /// <summary>The most attempts per node the schema accepts: beyond that a node is not coming back by retrying.</summary>
    public const int MaxAttemptsLimit = 100;

    /// <summary>The longest first backoff the schema accepts: one hour.</summary>
    public const int BackoffSecondsLimit = 3600;

    /// <summary>Total attempts per node, the first included.</summary>
    /// <remarks>
    /// A 64-bit integer although the schema bounds it to 100: the API server accepts any integer that fits 64 bits
    /// where a CRD has no <c>maximum</c> (an older CRD, or a Helm upgrade, which never updates CRDs), and a value that
    /// did not fit this type would make the whole object unreadable. Read as it is, it is reported and replaced.
    /// </remarks>
    [JsonPropertyName("maxAttempts")]
    public long? MaxAttempts { get; set; }

    /// <summary>Delay before the second attempt; doubles for each later one, capped. 64-bit for the reason given on <see cref="MaxAttempts"/>.</summary>
    [JsonPropertyName("backoffSeconds")]
    public long? BackoffSeconds { get; set; }

    /// <summary>The longest wait between two attempts, unless <see cref="BackoffSeconds"/> itself is longer.</summary>
    public static TimeSpan MaxBackoff => TimeSpan.FromMinutes(5);

    /// <summary><see cref="MaxAttempts"/> when it is between 1 and <see cref="MaxAttemptsLimit"/>, else 3.</summary>
    [JsonIgnore]
    public int EffectiveMaxAttempts => MaxAttempts is >= 1 and <= MaxAttemptsLimit ? (int)MaxAttempts.Value : DefaultMaxAttempts;

    /// <summary>The wait before the second attempt: <see cref="BackoffSeconds"/> when it is between 1 and <see cref="BackoffSecondsLimit"/>, else 30 seconds.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveBackoff =>
        TimeSpan.FromSeconds(BackoffSeconds is >= 1 and <= BackoffSecondsLimit ? BackoffSeconds.Value : DefaultBackoffSeconds);

    /// <summary>A copy with both fields set to their effective values, for writing explicit settings (e.g. into a PrePullImage).</summary>
    public RetrySpec WithDefaults() => new() { MaxAttempts = EffectiveMaxAttempts, BackoffSeconds = (long)EffectiveBackoff.TotalSeconds };

    /// <summary>
    /// How long to wait before attempt number <paramref name="attempt"/> (1 = the first, which starts at once):
    /// the backoff, doubled for each later attempt, capped at <see cref="MaxBackoff"/> (or at the backoff when it is longer).
    /// </summary>
    public TimeSpan DelayBeforeAttempt(int attempt)
    {
        if (attempt <= 1)
        {
            return TimeSpan.Zero;
        }

        var backoff = EffectiveBackoff;
        var cap = backoff > MaxBackoff ? backoff : MaxBackoff;
        // 2^20 times any backoff of at least a second is far beyond the cap; stopping there avoids overflow.
        var doublings = Math.Min(attempt - 2, 20);
        var delay = backoff * Math.Pow(2, doublings);
        return delay > cap ? cap : delay;
    }

    internal IEnumerable<string> Validate(string fieldPath)
    {
        if (MaxAttempts is < 1 or > MaxAttemptsLimit)
        {
            yield return $"{fieldPath}.maxAttempts: must be between 1 and {MaxAttemptsLimit}, got {MaxAttempts}; the default {DefaultMaxAttempts} is used";
        }

        if (BackoffSeconds is < 1 or > BackoffSecondsLimit)
        {
            yield return $"{fieldPath}.backoffSeconds: must be between 1 and {BackoffSecondsLimit}, got {BackoffSeconds}; the default {DefaultBackoffSeconds} is used";
        }
    }
}

public sealed record PolicyImagePullSecrets
{
    /// <summary>True (default): the Deployment's pod-template secrets and its service account's secrets apply.</summary>
    [JsonPropertyName("inherit")]
    public bool? Inherit { get; set; }

    [JsonPropertyName("additional")]
    public IList<V1LocalObjectReference>? Additional { get; set; }

    [JsonIgnore]
    public bool EffectiveInherit => Inherit ?? true;
}

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

[JsonConverter(typeof(JsonStringEnumConverter<HoldFailureAction>))]
public enum HoldFailureAction
{
    /// <summary>Release when every node is done, even if some failed.</summary>
    Release,

    /// <summary>Keep holding until <c>hold.maxDuration</c> when a node failed.</summary>
    Wait,
}

public sealed record PrePullPolicyStatus
{
    [JsonPropertyName("watchedDeployments")]
    public int? WatchedDeployments { get; set; }

    [JsonPropertyName("activeHolds")]
    public int? ActiveHolds { get; set; }

    [JsonPropertyName("lastUpdated")]
    public DateTime? LastUpdated { get; set; }

    [JsonPropertyName("conditions")]
    public IList<V1Condition>? Conditions { get; set; }
}
