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
