using k8s;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;
using Kwarm.Testing.RealApiServer;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// <see cref="NodeWarmingScenarios"/> on the real control plane (kube-apiserver, kube-controller-manager and
/// kube-scheduler v1.24), with the test's nodes attached as simulated kubelets that register through the real API
/// server's admission, as the cluster admin. At the end (passed or failed) the test deletes its webhook configurations
/// and namespace, removes its pods at once, then deletes its nodes.
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
public sealed class NodeWarmingRealApiServerTests(RealControlPlaneFixture fixture) : NodeWarmingScenarios
{
    private static readonly TimeSpan CleanupLimit = TimeSpan.FromSeconds(60);

    private readonly string _suffix = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..3]);
    private ControlPlane? _plane;
    private AttachedNodes? _nodes;

    protected override string Unique(string name) => $"{name}-{_suffix}";

    protected override IReadOnlyCollection<string> BackgroundErrors => _nodes?.Errors ?? [];

    protected override async Task<IKubernetes> StartClusterAsync()
    {
        _plane = fixture.Require();
        _nodes = await AttachedNodes.StartAsync(new AttachOptions
        {
            KubeconfigPath = _plane.AdminKubeconfig,
            NamePrefix = "warming-" + _suffix,
            Simulation = new SimulatorOptions { TimeFactor = 0.01 },
        }, cancellationToken: Token);
        return _plane.AdminClient;
    }

    protected override Task JoinAsync(NodeSpec node) =>
        (_nodes ?? throw new InvalidOperationException("no nodes attached")).AddNodesAsync([node], Token);

    protected override async ValueTask StopClusterAsync()
    {
        if (_plane is null)
        {
            return;
        }

        using var limit = new CancellationTokenSource(CleanupLimit);
        try
        {
            await _plane.AdminClient.CoreV1.DeleteNamespaceAsync(Namespace, cancellationToken: limit.Token);

            // The namespace is terminating, so its controllers create no more pods: they go at once.
            await _plane.AdminClient.CoreV1.DeleteCollectionNamespacedPodAsync(Namespace, gracePeriodSeconds: 0, cancellationToken: limit.Token);
            if (_nodes is not null)
            {
                while ((await _plane.AdminClient.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: limit.Token)).Items
                    .Any(pod => pod.Spec.NodeName is { } node && _nodes.NodeNames.Contains(node)))
                {
                    await Task.Delay(200, limit.Token);
                }
            }
        }
        finally
        {
            if (_nodes is not null)
            {
                await _nodes.DeleteNodesAsync(CancellationToken.None);
                await _nodes.DisposeAsync();
            }
        }
    }
}
