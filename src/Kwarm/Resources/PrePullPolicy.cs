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
}

public sealed record PolicyImagePullSecrets
{
    /// <summary>True (default): the Deployment's pod-template secrets and its service account's secrets apply.</summary>
    [JsonPropertyName("inherit")]
    public bool? Inherit { get; set; }

    [JsonPropertyName("additional")]
    public IList<V1LocalObjectReference>? Additional { get; set; }
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
