using System.Collections.Frozen;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

public sealed record PrePullPolicySpec
{
    private static readonly IReadOnlySet<WorkloadKind> AllWorkloadKinds = Enum.GetValues<WorkloadKind>().ToFrozenSet();

    [JsonPropertyName("selector")]
    public DeploymentSelector? Selector { get; set; }

    /// <summary>Which kinds of workload the selector applies to; null means all three.</summary>
    [JsonPropertyName("workloads")]
    public IList<WorkloadKind>? Workloads { get; set; }

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

    /// <summary>Whether nodes joining with the warming taint get this policy's images first (DESIGN §10); null means off.</summary>
    [JsonPropertyName("nodeWarmup")]
    public NodeWarmupSpec? NodeWarmup { get; set; }

    /// <summary>
    /// The kinds this policy holds: <see cref="Workloads"/> without duplicates, or all three when it is absent. An
    /// empty list (refused by the schema; possible only for an object built in code) holds no kind.
    /// </summary>
    [JsonIgnore]
    public IReadOnlySet<WorkloadKind> EffectiveWorkloads =>
        Workloads is null ? AllWorkloadKinds : Workloads.Where(Enum.IsDefined).ToHashSet();

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

    /// <summary>Node warm-up settings with every field set (off, 10 minutes, no extra image unless configured).</summary>
    [JsonIgnore]
    public NodeWarmupSpec EffectiveNodeWarmup => (NodeWarmup ?? new NodeWarmupSpec()).WithDefaults();

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
        if (Workloads is { Count: 0 })
        {
            problems.Add("spec.workloads: the list is empty; this policy holds no workload (leave it out for all three kinds)");
        }

        problems.AddRange((Workloads ?? [])
            .Select((kind, index) => Enum.IsDefined(kind) ? null : $"spec.workloads[{index}]: {(int)kind} is not Deployment, StatefulSet or DaemonSet; ignored")
            .OfType<string>());
        problems.AddRange(LabelSelectors.DescribeSelector(NodeSelector?.MatchLabels, NodeSelector?.MatchExpressions, "spec.nodeSelector"));
        problems.AddRange(PullDefaults.DescribeUnusableResources(Resources, "spec.resources"));
        AddIfNotNull(problems, PullDefaults.DescribeInvalidTimeout(Timeout, "spec.timeout"));
        AddIfNotNull(problems, Retry?.Validate("spec.retry"));
        AddIfNotNull(problems, Hold?.Validate("spec.hold"));
        AddIfNotNull(problems, NodeWarmup?.Validate("spec.nodeWarmup"));
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
