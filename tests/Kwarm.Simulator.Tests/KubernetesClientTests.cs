using System.Net;
using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary>KubernetesClient, the library Kwarm is built on, works against the simulator from its kubeconfig.</summary>
public sealed class KubernetesClientTests
{
    private static Kubernetes Client(SimulatedCluster cluster) =>
        new(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));

    private static V1Deployment Deployment(string name, string image) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1DeploymentSpec
        {
            Replicas = 2,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = name, Image = image }] },
            },
        },
    };

    [Fact]
    public async Task Typed_client_creates_lists_watches_and_patches()
    {
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { Nodes = 2, TimeFactor = 0.01 }, TestContext.Current.CancellationToken);
        using var client = Client(cluster);
        var ct = TestContext.Current.CancellationToken;

        var namespaces = await client.CoreV1.ListNamespaceAsync(cancellationToken: ct);
        Assert.Contains(namespaces.Items, n => n.Metadata.Name == "default");

        var created = await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "registry.local/web:1"), "default", cancellationToken: ct);
        Assert.Equal(1, created.Metadata.Generation);
        Assert.Equal("RollingUpdate", created.Spec.Strategy.Type);

        var list = await client.AppsV1.ListNamespacedDeploymentAsync("default", cancellationToken: ct);
        var events = new List<(WatchEventType Type, V1Deployment Object)>();
        using var watchCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watching = Task.Run(
            async () =>
            {
                try
                {
                    var stream = client.AppsV1.WatchListNamespacedDeploymentAsync("default", allowWatchBookmarks: true, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: watchCancel.Token);
                    await foreach (var (type, item) in stream)
                    {
                        lock (events)
                        {
                            events.Add((type, item));
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // The test stops the watch.
                }
            },
            ct);

        var patch = new V1Patch("""{"spec":{"paused":true}}""", V1Patch.PatchType.MergePatch);
        var paused = await client.AppsV1.PatchNamespacedDeploymentAsync(patch, "web", "default", cancellationToken: ct);
        Assert.True(paused.Spec.Paused);
        await Eventually.WaitUntilAsync(() => { lock (events) { return events.Any(e => e.Object.Spec.Paused == true); } }, "the watch to see the pause");

        var stale = new V1Patch("""[{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"x"}]""", V1Patch.PatchType.JsonPatch);
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => client.AppsV1.PatchNamespacedDeploymentAsync(stale, "web", "default", cancellationToken: ct));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, error.Response.StatusCode);

        var scale = await client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", "default", cancellationToken: ct);
        Assert.Equal(2, scale.Spec.Replicas);
        Assert.Equal("app=web", scale.Status.Selector);

        await watchCancel.CancelAsync();
        await watching;
        lock (events)
        {
            Assert.All(events, e => Assert.Equal("web", e.Object.Metadata.Name));
            Assert.Equal(WatchEventType.Modified, events[0].Type);
        }
    }

    [Fact]
    public async Task Leader_election_on_a_lease_works()
    {
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { RunControllers = false }, TestContext.Current.CancellationToken);
        using var client = Client(cluster);
        var leaseLock = new LeaseLock(client, "default", "kwarm-leader", "replica-1");
        using var elector = new LeaderElector(new LeaderElectionConfig(leaseLock)
        {
            LeaseDuration = TimeSpan.FromSeconds(2),
            RenewDeadline = TimeSpan.FromSeconds(1),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        });
        var leading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        elector.OnStartedLeading += () => leading.TrySetResult();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var running = elector.RunUntilLeadershipLostAsync(stop.Token);
        await leading.Task.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync("kwarm-leader", "default", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("replica-1", lease.Spec.HolderIdentity);
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
            // Stopped by the test.
        }
    }
}
