using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

public sealed record PrePullImageStatus
{
    /// <summary>The condition type that is True once every target node is done (pulled, skipped or failed for good).</summary>
    public const string ReadyCondition = "Ready";

    [JsonPropertyName("phase")]
    public PrePullImagePhase? Phase { get; set; }

    [JsonPropertyName("summary")]
    public PullSummary? Summary { get; set; }

    [JsonPropertyName("nodes")]
    public IList<NodePullStatus>? Nodes { get; set; }

    [JsonPropertyName("conditions")]
    public IList<V1Condition>? Conditions { get; set; }

    [JsonPropertyName("startTime")]
    public DateTime? StartTime { get; set; }

    [JsonPropertyName("completionTime")]
    public DateTime? CompletionTime { get; set; }

    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }
}
