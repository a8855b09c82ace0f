using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kwarm.Admission;

public sealed record AdmissionRequest
{
    public const string Create = "CREATE";
    public const string Update = "UPDATE";
    public const string Delete = "DELETE";
    public const string Connect = "CONNECT";

    /// <summary>Echoed in the response: the API server matches answers to requests by it.</summary>
    [JsonPropertyName("uid")]
    public string? Uid { get; init; }

    [JsonPropertyName("kind")]
    public GroupVersionKind? Kind { get; init; }

    [JsonPropertyName("resource")]
    public GroupVersionResource? Resource { get; init; }

    /// <summary><c>scale</c> when <c>kubectl scale</c> or an HPA writes <c>deployments/scale</c>.</summary>
    [JsonPropertyName("subResource")]
    public string? SubResource { get; init; }

    [JsonPropertyName("requestKind")]
    public GroupVersionKind? RequestKind { get; init; }

    [JsonPropertyName("requestResource")]
    public GroupVersionResource? RequestResource { get; init; }

    [JsonPropertyName("requestSubResource")]
    public string? RequestSubResource { get; init; }

    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("namespace")]
    public string? Namespace { get; init; }

    /// <summary>Kept as a string, not an enum: an operation this code does not know must not fail the whole review.</summary>
    [JsonPropertyName("operation")]
    public string? Operation { get; init; }

    [JsonPropertyName("userInfo")]
    public AdmissionUserInfo? UserInfo { get; init; }

    [JsonPropertyName("object")]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Named after the AdmissionReview field it maps.")]
    public JsonElement? Object { get; init; }

    [JsonPropertyName("oldObject")]
    public JsonElement? OldObject { get; init; }

    [JsonPropertyName("dryRun")]
    public bool? DryRun { get; init; }

    /// <summary><c>CreateOptions</c> / <c>UpdateOptions</c>, raw: only read for diagnostics.</summary>
    [JsonPropertyName("options")]
    public JsonElement? Options { get; init; }
}
