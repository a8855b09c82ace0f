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
