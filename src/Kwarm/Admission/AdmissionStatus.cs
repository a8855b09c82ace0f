using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kwarm.Admission;

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
