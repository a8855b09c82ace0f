using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kwarm.Admission;

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
