using System.Text.Json.Serialization;

namespace Kwarm.Resources;

/// <summary>
/// The kinds of workload a PrePullPolicy can hold (DESIGN §10, <c>spec.workloads</c>). The names are the API kinds
/// (<c>apps/v1</c>), so a policy reads as the objects it selects.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<WorkloadKind>))]
public enum WorkloadKind
{
    /// <summary>Held with <c>spec.paused: true</c>.</summary>
    Deployment,

    /// <summary>Held by raising <c>spec.updateStrategy.rollingUpdate.partition</c> to 2147483647.</summary>
    StatefulSet,

    /// <summary>Held by switching <c>spec.updateStrategy</c> to <c>OnDelete</c>.</summary>
    DaemonSet,
}
