namespace Kwarm.Simulator.Nodes;

/// <summary>
/// One image pull a simulated kubelet performed for one pod's container: when the pod asked for it, when the node's
/// one-at-a-time pull queue let it start, and when it finished. A container whose image was already present is not a
/// pull and leaves no record. Times come from the simulator's <see cref="Hosting.SimulatorOptions.Time"/>.
/// </summary>
/// <param name="Reason">Empty for a pull that succeeded; else the kubelet's waiting reason (<c>ErrImagePull</c>).</param>
public sealed record ImagePull(
    string Node,
    string Image,
    string PodNamespace,
    string PodName,
    string PodUid,
    DateTimeOffset RequestedAt,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    bool Succeeded,
    string Reason)
{
    /// <summary>How long the pod waited for its image: queueing behind other pulls on the node included.</summary>
    public TimeSpan PodWaited => FinishedAt - RequestedAt;

    /// <summary>How long the transfer itself took, once the node's pull queue reached it.</summary>
    public TimeSpan Transfer => FinishedAt - StartedAt;
}
