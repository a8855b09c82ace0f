using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Nodes;

/// <summary>What the simulated kubelets run with, wherever their cluster is.</summary>
public sealed record KubeletSettings
{
    /// <summary>Clock, time factor, heartbeat period, pull bandwidth, container start and run times.</summary>
    public required SimulatorOptions Options { get; init; }

    /// <summary>The registry the kubelets pull from.</summary>
    public required ImageRegistry Registry { get; init; }

    /// <summary>
    /// Keep a node Lease per node in <c>kube-node-lease</c>, renewed every <see cref="SimulatorOptions.NodeHeartbeat"/>.
    /// Without Leases the kubelets post their Ready condition on that period instead, as kubelets did before Leases.
    /// </summary>
    public bool NodeLeases { get; init; } = true;

    /// <summary>Where unexpected failures go (the key is the node or pod concerned).</summary>
    public Action<string, Exception> ReportError { get; init; } = (_, _) => { };
}
