using System.Text.Json.Serialization;
using k8s;

namespace Kwarm.Resources;

[JsonConverter(typeof(JsonStringEnumConverter<NodePullState>))]
public enum NodePullState
{
    Pending,
    Pulling,
    Completed,
    Skipped,
    Failed,
}
