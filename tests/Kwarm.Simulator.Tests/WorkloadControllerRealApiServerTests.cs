using k8s;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;
using Kwarm.Testing.RealApiServer;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// <see cref="WorkloadControllerScenarios"/> on the real control plane (kube-apiserver, kube-controller-manager and
/// kube-scheduler v1.24) with three simulated nodes attached for the test, as the cluster admin; cleaned up as
/// <see cref="KubectlRealApiServerTests"/> does (namespace, its pods at once, then the nodes).
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
public sealed class WorkloadControllerRealApiServerTests(RealControlPlaneFixture fixture) : WorkloadControllerScenarios
{
    private static readonly TimeSpan CleanupLimit = TimeSpan.FromSeconds(60);

    private readonly string _suffix = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..3]);
    private ControlPlane? _plane;
    private AttachedNodes? _nodes;

    private AttachedNodes Nodes => _nodes ?? throw new InvalidOperationException("no nodes attached");

    protected override string Unique(string name) => $"{name}-{_suffix}";

    protected override IReadOnlyList<string> NodeNames => [.. Nodes.NodeNames.Order(StringComparer.Ordinal)];

    protected override IReadOnlyCollection<string> BackgroundErrors => Nodes.Errors;

    protected override async Task<string> StartClusterAsync(string folder)
    {
        _plane = fixture.Require();
        var kubeconfig = Path.Combine(folder, "kubeconfig");
        File.Copy(_plane.AdminKubeconfig, kubeconfig);
        _nodes = await AttachedNodes.StartAsync(new AttachOptions
        {
            KubeconfigPath = kubeconfig,
            Nodes = 3,
            NamePrefix = "workloads-" + _suffix,
            Simulation = new SimulatorOptions { TimeFactor = 0.01 },
        }, cancellationToken: TestContext.Current.CancellationToken);
        return kubeconfig;
    }

    protected override async ValueTask StopClusterAsync()
    {
        if (_plane is null)
        {
            return;
        }

        using var limit = new CancellationTokenSource(CleanupLimit);
        try
        {
            var deleted = await Run(["delete", .. Created, "--ignore-not-found", "--wait=false"]);
            Assert.True(deleted.ExitCode == 0, $"cleanup failed: {deleted}");

            // The namespace is terminating, so its controllers create no more pods: they go at once.
            await _plane.AdminClient.CoreV1.DeleteCollectionNamespacedPodAsync(Apps, gracePeriodSeconds: 0, cancellationToken: limit.Token);
            if (_nodes is not null)
            {
                while (true)
                {
                    var pods = await _plane.AdminClient.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: limit.Token);
                    if (!pods.Items.Any(pod => pod.Spec.NodeName is { } node && _nodes.NodeNames.Contains(node)))
                    {
                        break;
                    }

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
