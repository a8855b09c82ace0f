using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

public sealed record PrePullPolicyStatus
{
    [JsonPropertyName("watchedDeployments")]
    public int? WatchedDeployments { get; set; }

    [JsonPropertyName("watchedStatefulSets")]
    public int? WatchedStatefulSets { get; set; }

    [JsonPropertyName("watchedDaemonSets")]
    public int? WatchedDaemonSets { get; set; }

    /// <summary>Workloads of every kind held right now under this policy.</summary>
    [JsonPropertyName("activeHolds")]
    public int? ActiveHolds { get; set; }

    [JsonPropertyName("lastUpdated")]
    public DateTime? LastUpdated { get; set; }

    [JsonPropertyName("conditions")]
    public IList<V1Condition>? Conditions { get; set; }
}
