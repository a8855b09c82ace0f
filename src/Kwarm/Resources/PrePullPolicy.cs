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

    /// <summary>
    /// Problems with values the schema cannot catch (a zero duration, a selector requirement without values) or that
    /// bypassed it (an object built in code). Each names its field; the effective accessors fall back to the
    /// default for such a value, and a malformed selector requirement selects nothing.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Selector is null)
        {
            problems.Add("spec.selector: a selector is required ({} selects every Deployment); this policy selects nothing");
        }

        AddIfNotNull(problems, LabelSelectors.Describe(Selector?.MatchExpressions, "spec.selector.matchExpressions"));
        AddIfNotNull(problems, LabelSelectors.Describe(NodeSelector?.MatchExpressions, "spec.nodeSelector.matchExpressions"));
        AddIfNotNull(problems, PullDefaults.DescribeInvalidTimeout(Timeout, "spec.timeout"));
        AddIfNotNull(problems, Retry?.Validate("spec.retry"));
        AddIfNotNull(problems, Hold?.Validate("spec.hold"));
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

    /// <summary>Total attempts per node, the first included.</summary>
    [JsonPropertyName("maxAttempts")]
    public int? MaxAttempts { get; set; }

    /// <summary>Delay before the second attempt; doubles for each later one, capped.</summary>
    [JsonPropertyName("backoffSeconds")]
    public int? BackoffSeconds { get; set; }

    /// <summary>The longest wait between two attempts, unless <see cref="BackoffSeconds"/> itself is longer.</summary>
    public static TimeSpan MaxBackoff => TimeSpan.FromMinutes(5);

    /// <summary><see cref="MaxAttempts"/> when it is at least 1, else 3.</summary>
    [JsonIgnore]
    public int EffectiveMaxAttempts => MaxAttempts is int attempts && attempts >= 1 ? attempts : DefaultMaxAttempts;

    /// <summary>The wait before the second attempt: <see cref="BackoffSeconds"/> when it is at least 1, else 30 seconds.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveBackoff =>
        TimeSpan.FromSeconds(BackoffSeconds is int seconds && seconds >= 1 ? seconds : DefaultBackoffSeconds);

    /// <summary>A copy with both fields set to their effective values, for writing explicit settings (e.g. into a PrePullImage).</summary>
    public RetrySpec WithDefaults() => new() { MaxAttempts = EffectiveMaxAttempts, BackoffSeconds = (int)EffectiveBackoff.TotalSeconds };

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
        if (MaxAttempts is < 1)
        {
            yield return $"{fieldPath}.maxAttempts: must be at least 1, got {MaxAttempts}; the default {DefaultMaxAttempts} is used";
        }

        if (BackoffSeconds is < 1)
        {
            yield return $"{fieldPath}.backoffSeconds: must be at least 1, got {BackoffSeconds}; the default {DefaultBackoffSeconds} is used";
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

    /// <summary><see cref="MaxDuration"/> when it is a positive Go duration, else 15 minutes.</summary>
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
        MaxDuration = GoDuration.TryParse(MaxDuration, out var configured) && configured > TimeSpan.Zero ? MaxDuration : DefaultMaxDuration,
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
