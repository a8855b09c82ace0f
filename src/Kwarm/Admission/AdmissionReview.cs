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

public sealed record GroupVersionKind
{
    [JsonPropertyName("group")]
    public string? Group { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("kind")]
    public string? Kind { get; init; }
}

public sealed record GroupVersionResource
{
    [JsonPropertyName("group")]
    public string? Group { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("resource")]
    public string? Resource { get; init; }
}

public sealed record AdmissionUserInfo
{
    [JsonPropertyName("username")]
    public string? Username { get; init; }

    [JsonPropertyName("uid")]
    public string? Uid { get; init; }

    [JsonPropertyName("groups")]
    public IReadOnlyList<string>? Groups { get; init; }

    [JsonPropertyName("extra")]
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Extra { get; init; }
}

public sealed record AdmissionResponse
{
    public const string JsonPatchType = "JSONPatch";

    [JsonPropertyName("uid")]
    public string Uid { get; init; } = "";

    [JsonPropertyName("allowed")]
    public bool Allowed { get; init; }

    [JsonPropertyName("patchType")]
    public string? PatchType { get; init; }

    /// <summary>UTF-8 JSON Patch; System.Text.Json writes a byte array as base64, which is what the API server expects.</summary>
    [JsonPropertyName("patch")]
#pragma warning disable CA1819 // The wire format is a base64 byte string; an array is what the serializer maps to it.
    public byte[]? Patch { get; init; }
#pragma warning restore CA1819

    [JsonPropertyName("status")]
    public AdmissionStatus? Status { get; init; }

    /// <summary>Shown by kubectl to the person who made the request.</summary>
    [JsonPropertyName("warnings")]
    public IReadOnlyList<string>? Warnings { get; init; }

    [JsonPropertyName("auditAnnotations")]
    public IReadOnlyDictionary<string, string>? AuditAnnotations { get; init; }
}

/// <summary>The subset of <c>metav1.Status</c> an admission response carries.</summary>
public sealed record AdmissionStatus
{
    [JsonPropertyName("code")]
    public int? Code { get; init; }

    [JsonPropertyName("message")]
    public string? Message { get; init; }

    [JsonPropertyName("reason")]
    public string? Reason { get; init; }
}

/// <summary>Source-generated (de)serialization: no reflection on the request path.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AdmissionReview))]
public sealed partial class AdmissionJsonContext : JsonSerializerContext;
