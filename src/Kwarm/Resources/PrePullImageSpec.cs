using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

public sealed record PrePullImageSpec
{
    [JsonPropertyName("image")]
    public string Image { get; set; } = "";

    /// <summary>When set, nodes pull <c>repository@digest</c> instead of the tag.</summary>
    [JsonPropertyName("imageDigest")]
    public string? ImageDigest { get; set; }

    [JsonPropertyName("nodes")]
    public NodeTargets? Nodes { get; set; }

    [JsonPropertyName("tolerations")]
    public IList<V1Toleration>? Tolerations { get; set; }

    [JsonPropertyName("imagePullSecrets")]
    public IList<V1LocalObjectReference>? ImagePullSecrets { get; set; }

    [JsonPropertyName("serviceAccountName")]
    public string? ServiceAccountName { get; set; }

    [JsonPropertyName("resources")]
    public V1ResourceRequirements? Resources { get; set; }

    [JsonPropertyName("retry")]
    public RetrySpec? Retry { get; set; }

    [JsonPropertyName("timeout")]
    public string? Timeout { get; set; }

    [JsonPropertyName("priorityClassName")]
    public string? PriorityClassName { get; set; }

    /// <summary>
    /// The workload container's pull policy, used by the pull container so that a mutable tag pulled with
    /// <c>Always</c> is refreshed; absent means the Kubernetes default for the reference.
    /// </summary>
    [JsonPropertyName("imagePullPolicy")]
    public ImagePullPolicy? ImagePullPolicy { get; set; }

    /// <summary>Per-node attempt timeout: <see cref="Timeout"/> or 10 minutes.</summary>
    [JsonIgnore]
    public TimeSpan EffectiveTimeout => PullDefaults.EffectiveTimeout(Timeout);

    /// <summary>Retry settings with both fields set (max attempts 3, backoff 30 s unless configured).</summary>
    [JsonIgnore]
    public RetrySpec EffectiveRetry => (Retry ?? new RetrySpec()).WithDefaults();

    /// <summary>Pull-pod resources with the 100m / 64Mi defaults filled in (see <see cref="PullDefaults.EffectiveResources"/>).</summary>
    [JsonIgnore]
    public V1ResourceRequirements EffectiveResources => PullDefaults.EffectiveResources(Resources);

    /// <summary>
    /// The reference a node pulls: <see cref="Image"/>, or its repository pinned to <see cref="ImageDigest"/>
    /// (<c>registry:5000/app:1.2</c> + <c>sha256:…</c> → <c>registry:5000/app@sha256:…</c>).
    /// </summary>
    [JsonIgnore]
    public string PullReference =>
        string.IsNullOrEmpty(ImageDigest) || string.IsNullOrEmpty(Image) ? Image ?? "" : ImageReference.Repository(Image) + "@" + ImageDigest;

    /// <summary>Whether a node is targeted by <see cref="Nodes"/> (every node when it is absent).</summary>
    public bool TargetsNode(string nodeName, IDictionary<string, string>? nodeLabels) =>
        Nodes is null || Nodes.Includes(nodeName, nodeLabels);

    /// <summary>
    /// Problems with <see cref="Image"/> and <see cref="ImageDigest"/>: a node would refuse the reference with
    /// <c>InvalidImageName</c>, so nothing is pulled. Each names its field.
    /// </summary>
    public IReadOnlyList<string> ImageProblems()
    {
        var problems = new List<string>();
        if (ImageReference.Describe(Image) is { } badImage)
        {
            problems.Add($"spec.image: {badImage}");
        }

        if (ImageDigest is not null && ImageReference.DescribeDigest(ImageDigest) is { } badDigest)
        {
            problems.Add($"spec.imageDigest: {badDigest}");
        }

        return problems;
    }

    /// <summary>
    /// Problems that leave no sensible pull: <see cref="ImageProblems"/>, and values a pull pod cannot carry or a
    /// target set cannot be read from (a toleration, node name, selector or affinity the API server would refuse in a
    /// pod, a service account or PriorityClass name that is not a name). The schema refuses all of them where it
    /// can; the pull engine fails a PrePullImage that has any (no Job), and the hold controller never creates one.
    /// </summary>
    public IReadOnlyList<string> BlockingProblems()
    {
        var problems = new List<string>(ImageProblems());
        problems.AddRange((Nodes?.Names ?? [])
            .Select((name, index) => KubernetesNames.DescribeInvalidDnsSubdomain(name) is { } bad ? $"spec.nodes.names[{index}]: {bad}" : null)
            .OfType<string>());
        problems.AddRange(LabelSelectors.DescribeSelector(Nodes?.Selector?.MatchLabels, Nodes?.Selector?.MatchExpressions, "spec.nodes.selector"));
        if (Nodes?.NodeAffinity is { } affinity)
        {
            problems.AddRange(NodeAffinityTerms.Describe(affinity, "spec.nodes.nodeAffinity"));
        }

        if (SchemaLimits.DescribeTooMany(Tolerations?.Count ?? 0, SchemaLimits.Tolerations, "spec.tolerations", "tolerations") is { } tooMany)
        {
            problems.Add(tooMany);
        }

        problems.AddRange((Tolerations ?? [])
            .Select((toleration, index) => TolerationRules.Describe(toleration, $"spec.tolerations[{index}]"))
            .OfType<string>());
        AddIfInvalidName(problems, ServiceAccountName, "spec.serviceAccountName");
        AddIfInvalidName(problems, PriorityClassName, "spec.priorityClassName");
        return problems;
    }

    /// <summary>
    /// Every problem with values the schema cannot catch or that bypassed it, each naming its field:
    /// <see cref="BlockingProblems"/>, then a resource quantity, timeout or retry setting that falls back to its default.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(BlockingProblems());
        problems.AddRange(PullDefaults.DescribeUnusableResources(Resources, "spec.resources"));
        if (PullDefaults.DescribeInvalidTimeout(Timeout, "spec.timeout") is { } timeoutProblem)
        {
            problems.Add(timeoutProblem);
        }

        if (Retry is not null)
        {
            problems.AddRange(Retry.Validate("spec.retry"));
        }

        return problems;
    }

    private static void AddIfInvalidName(List<string> problems, string? name, string fieldPath)
    {
        if (!string.IsNullOrEmpty(name) && KubernetesNames.DescribeInvalidDnsSubdomain(name) is { } bad)
        {
            problems.Add($"{fieldPath}: {bad}");
        }
    }
}
