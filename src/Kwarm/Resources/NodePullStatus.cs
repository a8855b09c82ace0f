using System.Text.Json.Serialization;
using k8s;

namespace Kwarm.Resources;

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
