using System.Text.Json.Serialization;
using k8s;

namespace Kwarm.Resources;

[JsonConverter(typeof(JsonStringEnumConverter<PrePullImagePhase>))]
public enum PrePullImagePhase
{
    Pending,
    InProgress,
    Completed,
    Failed,
}
