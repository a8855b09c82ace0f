using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

/// <summary>
/// Namespaced: one image to put on a set of nodes (DESIGN §2). Created by the hold controller
/// (owned by the Deployment) or by hand.
/// </summary>
public sealed record PrePullImage : IKubernetesObject<V1ObjectMeta>, ISpec<PrePullImageSpec>, IStatus<PrePullImageStatus?>
{
    public const string KubeGroup = KwarmApi.Group;
    public const string KubeVersion = KwarmApi.Version;
    public const string KubeKind = "PrePullImage";
    public const string KubePluralName = "prepullimages";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = KwarmApi.ApiVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KubeKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public PrePullImageSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public PrePullImageStatus? Status { get; set; }
}

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

/// <summary>Named nodes, or nodes chosen by labels; with neither, every eligible node.</summary>
public sealed record NodeTargets
{
    [JsonPropertyName("selector")]
    public V1LabelSelector? Selector { get; set; }

    [JsonPropertyName("names")]
    public IList<string>? Names { get; set; }

    /// <summary>
    /// Required node affinity copied from a pod template when a label selector cannot express it (several
    /// <c>nodeSelectorTerms</c>, which are ORed; <c>Gt</c>/<c>Lt</c>; <c>matchFields</c>). Same semantics as in a pod:
    /// a node must match at least one term; a term matches when all its requirements do.
    /// </summary>
    [JsonPropertyName("nodeAffinity")]
    public V1NodeSelector? NodeAffinity { get; set; }

    /// <summary>
    /// Whether a node is targeted: it must be one of <see cref="Names"/> when names are given, and match
    /// <see cref="Selector"/> when a selector is given (both when both are); with neither, every node is.
    /// Readiness, cordons, taints and OS are the pull engine's own filters on top of this.
    /// </summary>
    public bool Includes(string nodeName, IDictionary<string, string>? nodeLabels) =>
        (Names is not { Count: > 0 } || Names.Contains(nodeName, StringComparer.Ordinal))
        && (Selector is null || LabelSelectors.Matches(Selector, nodeLabels))
        && (NodeAffinity is null || NodeAffinityTerms.Matches(NodeAffinity, nodeName, nodeLabels));
}

[JsonConverter(typeof(JsonStringEnumConverter<ImagePullPolicy>))]
public enum ImagePullPolicy
{
    Always,
    IfNotPresent,
    Never,
}

[JsonConverter(typeof(JsonStringEnumConverter<PrePullImagePhase>))]
public enum PrePullImagePhase
{
    Pending,
    InProgress,
    Completed,
    Failed,
}

[JsonConverter(typeof(JsonStringEnumConverter<NodePullState>))]
public enum NodePullState
{
    Pending,
    Pulling,
    Completed,
    Skipped,
    Failed,
}

public sealed record PrePullImageStatus
{
    /// <summary>The condition type that is True once every target node is done (pulled, skipped or failed for good).</summary>
    public const string ReadyCondition = "Ready";

    [JsonPropertyName("phase")]
    public PrePullImagePhase? Phase { get; set; }

    [JsonPropertyName("summary")]
    public PullSummary? Summary { get; set; }

    [JsonPropertyName("nodes")]
    public IList<NodePullStatus>? Nodes { get; set; }

    [JsonPropertyName("conditions")]
    public IList<V1Condition>? Conditions { get; set; }

    [JsonPropertyName("startTime")]
    public DateTime? StartTime { get; set; }

    [JsonPropertyName("completionTime")]
    public DateTime? CompletionTime { get; set; }

    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }
}

public sealed record PullSummary
{
    [JsonPropertyName("total")]
    public int Total { get; set; }

    [JsonPropertyName("pending")]
    public int Pending { get; set; }

    [JsonPropertyName("pulling")]
    public int Pulling { get; set; }

    [JsonPropertyName("completed")]
    public int Completed { get; set; }

    [JsonPropertyName("skipped")]
    public int Skipped { get; set; }

    [JsonPropertyName("failed")]
    public int Failed { get; set; }
}

public sealed record NodePullStatus
{
    [JsonPropertyName("node")]
    public string Node { get; set; } = "";

    [JsonPropertyName("status")]
    public NodePullState Status { get; set; }

    [JsonPropertyName("startedAt")]
    public DateTime? StartedAt { get; set; }

    [JsonPropertyName("completedAt")]
    public DateTime? CompletedAt { get; set; }

    /// <summary>Go duration of the successful attempt, e.g. <c>12.5s</c>.</summary>
    [JsonPropertyName("duration")]
    public string? Duration { get; set; }

    /// <summary>The kubelet's own message for the last failed attempt.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; set; }

    [JsonPropertyName("retryCount")]
    public int? RetryCount { get; set; }

    /// <summary>The Job of the attempt in flight; cleared once the attempt is finished.</summary>
    [JsonPropertyName("jobName")]
    public string? JobName { get; set; }
}

/// <summary>The scheduler's rules for a required <c>nodeAffinity</c> (<c>V1NodeSelector</c>), over a node's name and labels.</summary>
public static class NodeAffinityTerms
{
    private const string Gt = "Gt";
    private const string Lt = "Lt";

    /// <summary>The only node field a <c>matchFields</c> requirement may name, as in a pod.</summary>
    public const string NodeNameField = "metadata.name";

    /// <summary>True when at least one term matches; no terms (or only empty ones) match no node, as in the scheduler.</summary>
    public static bool Matches(V1NodeSelector selector, string nodeName, IDictionary<string, string>? nodeLabels)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var labels = nodeLabels ?? new Dictionary<string, string>();
        return (selector.NodeSelectorTerms ?? []).Any(term =>
            (term.MatchExpressions is { Count: > 0 } || term.MatchFields is { Count: > 0 })
            && (term.MatchExpressions ?? []).All(requirement => Satisfies(requirement, labels.TryGetValue(requirement.Key ?? "", out var value) ? value : null))
            && (term.MatchFields ?? []).All(requirement => requirement.Key == NodeNameField && Satisfies(requirement, nodeName)));
    }

    /// <summary>
    /// What the API server would refuse in a pod's required node affinity (keys that are not label keys, an unknown
    /// operator, values that do not fit it: <c>Gt</c> and <c>Lt</c> take exactly one integer, <c>matchFields</c>
    /// exactly one node name under <c>In</c> or <c>NotIn</c>), each naming its field under <paramref name="fieldPath"/>.
    /// </summary>
    public static IEnumerable<string> Describe(V1NodeSelector selector, string fieldPath)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var terms = selector.NodeSelectorTerms ?? [];
        if (SchemaLimits.DescribeTooMany(terms.Count, SchemaLimits.NodeSelectorTerms, fieldPath + ".nodeSelectorTerms", "terms") is { } tooManyTerms)
        {
            yield return tooManyTerms;
        }

        for (var t = 0; t < terms.Count; t++)
        {
            var at = $"{fieldPath}.nodeSelectorTerms[{t}]";
            var expressions = terms[t]?.MatchExpressions ?? [];
            var fields = terms[t]?.MatchFields ?? [];
            foreach (var (count, list) in new[] { (expressions.Count, "matchExpressions"), (fields.Count, "matchFields") })
            {
                if (SchemaLimits.DescribeTooMany(count, SchemaLimits.NodeSelectorRequirements, $"{at}.{list}", "requirements") is { } tooMany)
                {
                    yield return tooMany;
                }
            }

            for (var e = 0; e < expressions.Count; e++)
            {
                if (DescribeExpression(expressions[e], $"{at}.matchExpressions[{e}]") is { } problem)
                {
                    yield return problem;
                }
            }

            for (var f = 0; f < fields.Count; f++)
            {
                if (DescribeField(fields[f], $"{at}.matchFields[{f}]") is { } problem)
                {
                    yield return problem;
                }
            }
        }
    }

    private static string? DescribeExpression(V1NodeSelectorRequirement? requirement, string fieldPath)
    {
        if (requirement is null)
        {
            return $"{fieldPath}: a requirement is required";
        }

        if (KubernetesNames.DescribeInvalidLabelKey(requirement.Key) is { } badKey)
        {
            return $"{fieldPath}.key: {badKey}";
        }

        var count = requirement.Values?.Count ?? 0;
        if (requirement.Values?.Select((value, index) => (value, index)).FirstOrDefault(entry => (entry.value?.Length ?? 0) > KubernetesNames.LabelValueMaxLength) is { value: not null } tooLong)
        {
            // No node label value is longer, so the requirement could never match; the schema bounds it for CEL's cost.
            return $"{fieldPath}.values[{tooLong.index}]: at most {KubernetesNames.LabelValueMaxLength} characters (a label value), got {tooLong.value.Length}";
        }

        return requirement.OperatorProperty switch
        {
            LabelSelectors.In or LabelSelectors.NotIn when count == 0 => $"{fieldPath}.values: {requirement.OperatorProperty} needs at least one value",
            LabelSelectors.Exists or LabelSelectors.DoesNotExist when count > 0 => $"{fieldPath}.values: {requirement.OperatorProperty} takes no values",
            Gt or Lt when count != 1 || !IsInteger(requirement.Values![0]) =>
                $"{fieldPath}.values: {requirement.OperatorProperty} takes exactly one integer value, got {FormatValues(requirement.Values)}",
            LabelSelectors.In or LabelSelectors.NotIn or LabelSelectors.Exists or LabelSelectors.DoesNotExist or Gt or Lt => null,
            var other => $"{fieldPath}.operator: \"{other}\" is not In, NotIn, Exists, DoesNotExist, Gt or Lt",
        };
    }

    private static string? DescribeField(V1NodeSelectorRequirement? requirement, string fieldPath)
    {
        if (requirement is null)
        {
            return $"{fieldPath}: a requirement is required";
        }

        if (requirement.Key != NodeNameField)
        {
            return $"{fieldPath}.key: \"{requirement.Key}\" is not a node field selector key (only {NodeNameField})";
        }

        if (requirement.OperatorProperty is not (LabelSelectors.In or LabelSelectors.NotIn))
        {
            return $"{fieldPath}.operator: \"{requirement.OperatorProperty}\" is not In or NotIn";
        }

        return requirement.Values is [var name]
            ? KubernetesNames.DescribeInvalidDnsSubdomain(name) is { } bad ? $"{fieldPath}.values[0]: {bad}" : null
            : $"{fieldPath}.values: {requirement.OperatorProperty} on a node field takes exactly one node name, got {FormatValues(requirement.Values)}";
    }

    private static bool IsInteger(string? value) =>
        long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _);

    private static string FormatValues(IList<string>? values) =>
        values is { Count: > 0 } ? "[" + string.Join(", ", values.Select(value => $"\"{KubernetesNames.Shorten(value ?? "")}\"")) + "]" : "none";

    private static bool Satisfies(V1NodeSelectorRequirement requirement, string? value)
    {
        var values = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            LabelSelectors.In => value is not null && values.Contains(value, StringComparer.Ordinal),
            LabelSelectors.NotIn => value is null || !values.Contains(value, StringComparer.Ordinal),
            LabelSelectors.Exists => value is not null,
            LabelSelectors.DoesNotExist => value is null,
            Gt => CompareAsInteger(value, values) is > 0,
            Lt => CompareAsInteger(value, values) is < 0,
            _ => false,
        };
    }

    /// <summary>Gt and Lt take exactly one integer value and compare it with the label read as an integer.</summary>
    private static int? CompareAsInteger(string? value, IList<string> values) =>
        values.Count == 1
        && long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var actual)
        && long.TryParse(values[0], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var expected)
            ? actual.CompareTo(expected)
            : null;
}
