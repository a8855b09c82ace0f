using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

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
