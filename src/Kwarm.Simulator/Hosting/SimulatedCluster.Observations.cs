using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Hosting;

public sealed partial class SimulatedCluster
{
    /// <summary>Every pull the simulated kubelets finished, with its node, reference, start and end.</summary>
    public PullLog CompletedPulls => Kubelets.CompletedPulls;
}
