using k8s;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;
using Kwarm.Tests.EndToEnd;

namespace Kwarm.Tests.Scenarios;

/// <summary>The cluster simulator with Kwarm installed (<see cref="KwarmTestCluster"/>): fast, and it audits every request.</summary>
public sealed class SimulatorBackend : IClusterBackend
{
    private const string StandbyAccount = "kwarm-standby";

    private readonly KwarmTestCluster _installed;

    private SimulatorBackend(KwarmTestCluster installed) => _installed = installed;

    public string Name => "simulator";

    public IKubernetes Client => _installed.Client;

    public Kubectl Kubectl => _installed.Kubectl;

    public ImageRegistry Registry => _installed.Cluster.Registry;

    public RequestAudit? Audit => _installed.Cluster.Audit;

    public string KwarmUser => KwarmTestCluster.OperatorUser;

    public string StandbyUser => $"system:serviceaccount:kwarm-system:{StandbyAccount}";

    public IReadOnlyList<KwarmInstance> Replicas => _installed.Replicas;

    /// <summary>A simulated cluster of <paramref name="nodes"/> nodes named <c>node-0001</c> on, with Kwarm's CRDs and namespace.</summary>
    public static async Task<SimulatorBackend> StartAsync(int nodes, double timeFactor) =>
        new(await KwarmTestCluster.StartAsync(new SimulatorOptions { Nodes = nodes, TimeFactor = timeFactor }));

    public Task<KwarmInstance> StartKwarmAsync(params string[] extraArgs) => _installed.StartKwarmAsync(extraArgs);

    public Task<KwarmInstance> StartStandbyKwarmAsync(params string[] extraArgs) => _installed.StartKwarmAsAsync(StandbyAccount, extraArgs);

    public Task RouteWebhookToAsync(KwarmInstance replica)
    {
        _installed.RouteWebhookTo(replica);
        return Task.CompletedTask;
    }

    public Task AddNodesAsync(IReadOnlyList<NodeSpec> nodes)
    {
        _installed.Cluster.AddNodes(nodes);
        return Task.CompletedTask;
    }

    public IReadOnlyCollection<string> CachedImages(string node) => _installed.Cluster.CachedImages(node);

    public int PullCount(string node) => _installed.Cluster.PullCount(node);

    public ValueTask DisposeAsync() => _installed.DisposeAsync();
}
