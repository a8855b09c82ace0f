using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary><see cref="WorkloadControllerScenarios"/> on the simulator (three nodes, time 100 times faster).</summary>
public sealed class WorkloadControllerTests : WorkloadControllerScenarios
{
    private TestCluster? _cluster;

    private TestCluster Cluster => _cluster ?? throw new InvalidOperationException("the simulator did not start");

    /// <summary>Each test has a simulator of its own: its names need not differ from another test's.</summary>
    protected override string Unique(string name) => name;

    protected override IReadOnlyList<string> NodeNames { get; } = ["node-0001", "node-0002", "node-0003"];

    protected override IReadOnlyCollection<string> BackgroundErrors => Cluster.Cluster.ControllerErrors;

    protected override async Task<string> StartClusterAsync(string folder)
    {
        _cluster = await TestCluster.StartAsync(new SimulatorOptions
        {
            Nodes = 3,
            TimeFactor = 0.01,
            KubeconfigPath = Path.Combine(folder, "kubeconfig"),
        });
        return _cluster.Cluster.KubeconfigPath;
    }

    protected override async ValueTask StopClusterAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
