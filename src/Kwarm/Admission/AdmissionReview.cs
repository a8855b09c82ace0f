using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kwarm.Admission;

/// <summary>
/// <c>admission.k8s.io/v1</c> AdmissionReview, written by hand because KubernetesClient has no admission types.
/// The reviewed objects stay raw JSON: nothing the webhook does not read is parsed, and nothing is lost.
/// </summary>
public sealed record AdmissionReview
{
    public const string V1ApiVersion = "admission.k8s.io/v1";
    public const string ReviewKind = "AdmissionReview";

    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; init; }

    [JsonPropertyName("kind")]
    public string? Kind { get; init; }

    [JsonPropertyName("request")]
    public AdmissionRequest? Request { get; init; }

    [JsonPropertyName("response")]
    public AdmissionResponse? Response { get; init; }
}
