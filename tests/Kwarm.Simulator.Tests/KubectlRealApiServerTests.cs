using k8s;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;
using Kwarm.Testing.RealApiServer;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// <see cref="KubectlScenarios"/> on the real control plane (kube-apiserver, kube-controller-manager and
/// kube-scheduler v1.24) with three simulated nodes attached for the test, as the cluster admin. The control plane
/// is shared with the other tests of <see cref="OneRealControlPlane"/>: each test's namespaces and cluster-scoped
/// names carry a suffix of its own, and at the end (passed or failed) it deletes them, removes their pods at once,
/// then deletes its nodes.
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
public sealed class KubectlRealApiServerTests(RealControlPlaneFixture fixture) : KubectlScenarios
{
    private static readonly TimeSpan CleanupLimit = TimeSpan.FromSeconds(60);

    private readonly string _suffix = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..3]);
    private ControlPlane? _plane;
    private AttachedNodes? _nodes;

    private AttachedNodes Nodes => _nodes ?? throw new InvalidOperationException("no nodes attached");

    protected override string Unique(string name) => $"{name}-{_suffix}";

    protected override async Task<string> StartClusterAsync(string folder)
    {
        _plane = fixture.Require();
        // A copy of the admin kubeconfig in the test's folder, so kubectl's HOME and cache are the test's own.
        var kubeconfig = Path.Combine(folder, "kubeconfig");
        File.Copy(_plane.AdminKubeconfig, kubeconfig);
        _nodes = await AttachedNodes.StartAsync(new AttachOptions
        {
            KubeconfigPath = kubeconfig,
            Nodes = 3,
            NamePrefix = "kubectl-" + _suffix,
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

            // The namespaces are terminating, so nothing creates pods in them any more: their pods go at once (grace
            // period 0) instead of in the namespace controller's own time, which is seconds per test.
            foreach (var ns in Created.Where(c => c.StartsWith("namespace/", StringComparison.Ordinal)).Select(c => c["namespace/".Length..]))
            {
                await _plane.AdminClient.CoreV1.DeleteCollectionNamespacedPodAsync(ns, gracePeriodSeconds: 0, cancellationToken: limit.Token);
            }

            if (_nodes is not null)
            {
                await WaitForPodsToLeaveAsync(_plane.AdminClient, _nodes.NodeNames, limit.Token);
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

    /// <summary>No pod of the test may stay bound to a node that is about to go.</summary>
    private static async Task WaitForPodsToLeaveAsync(IKubernetes client, IReadOnlyCollection<string> nodes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var pods = await client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: cancellationToken);
            if (!pods.Items.Any(pod => pod.Spec.NodeName is { } node && nodes.Contains(node)))
            {
                return;
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    protected override ImageRegistry Registry => Nodes.Registry;

    /// <summary>ControlPlane starts kube-apiserver with <c>--service-cluster-ip-range 10.0.0.0/24</c>.</summary>
    protected override string ClusterIpPattern => @"10\.0\.0\.\d+";

    protected override IReadOnlyCollection<string> BackgroundErrors => Nodes.Errors;

    /// <summary>kubectl's own validation against the v1.24 server's OpenAPI document (the server checks no fields).</summary>
    protected override string UnknownFieldRefusal =>
        "error validating data: ValidationError(PrePullImage.spec): unknown field \"imagePullSecret\" in io.kwarm.v1alpha1.PrePullImage.spec";
}
