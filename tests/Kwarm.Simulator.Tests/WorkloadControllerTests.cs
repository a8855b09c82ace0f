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

    /// <summary>
    /// A benchmark times a DaemonSet update per node from the pod timeline: the old pod's deletion request, then the new
    /// pod on the same node Ready. With maxUnavailable 1 every node has such a gap, and the new pod comes after the old.
    /// </summary>
    [Fact]
    public async Task Pod_timeline_gives_each_node_its_gap_without_the_daemon_during_a_rolling_update()
    {
        await Ok("apply", "-f", await WriteAsync("agent.yaml", $$$"""
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent, namespace: {{{Apps}}}}
            spec:
              selector: {matchLabels: {app: agent}}
              template:
                metadata: {labels: {app: agent}}
                spec: {containers: [{name: main, image: "registry.local/infra/agent:1"}]}
            """));
        Assert.Contains("successfully rolled out", await Ok("rollout", "status", "daemonset/agent", "-n", Apps, "--timeout=60s"));
        await Ok("set", "image", "daemonset/agent", "-n", Apps, "main=registry.local/infra/agent:2");
        Assert.Contains("successfully rolled out", await Ok("rollout", "status", "daemonset/agent", "-n", Apps, "--timeout=60s"));

        var daemons = Cluster.Cluster.PodLifecycles.Where(p => p.Namespace == Apps && p.Name.StartsWith("agent-", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, daemons.Count);
        foreach (var node in NodeNames)
        {
            var onNode = daemons.Where(p => p.Node == node).OrderBy(p => p.CreatedAt).ToList();
            Assert.Equal(2, onNode.Count);
            var (old, replacement) = (onNode[0], onNode[1]);
            Assert.NotEqual(old.Revision, replacement.Revision);
            Assert.NotNull(old.DeletionRequestedAt);
            Assert.NotNull(replacement.ReadyAt);
            Assert.True(old.DeletionRequestedAt <= replacement.ReadyAt, $"{node}: new pod ready before the old one was deleted");
            Assert.Null(replacement.DeletionRequestedAt);
        }
    }

    protected override async ValueTask StopClusterAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
