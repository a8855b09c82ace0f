using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Simulator.Tests;

/// <summary>With an injected FakeTimeProvider, simulated minutes pass in no real time and exactly when the test says.</summary>
public sealed class FakeTimeTests
{
    [Fact]
    public async Task Progress_deadline_expires_at_600_simulated_seconds_not_before()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 1, Time = time, NodeHeartbeat = TimeSpan.FromSeconds(10) });
        cluster.Cluster.Registry.MarkMissing("registry.local/web:typo");
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/web:typo", replicas: 1));
        // Wait (in real time, the fake clock standing still) until the rollout has made all the progress it can.
        await Eventually.WaitUntilAsync(
            () => cluster.Get("apps", "deployments", "shop", "web") is { } d && d.Long("status", "replicas") == 1 && d.Long("status", "updatedReplicas") == 1
                && cluster.List("", "pods", "shop").SingleOrDefault()?.Objects("status", "containerStatuses").Any() == true,
            "rollout stuck on its first pod");
        Assert.Equal(time.GetUtcNow(), JsonPaths.ParseTimestamp(cluster.Get("apps", "deployments", "shop", "web")!.Objects("status", "conditions").Single(c => c.Str("type") == "Progressing").Str("lastUpdateTime")));

        await AdvanceAsync(time, TimeSpan.FromSeconds(590));
        Assert.NotEqual("ProgressDeadlineExceeded", Reason(cluster));
        var lease = cluster.Get("coordination.k8s.io", "leases", "kube-node-lease", "node-0001")!;
        Assert.Equal("2026-01-01T00:09:50.000000Z", lease.Str("spec", "renewTime"));

        await AdvanceAsync(time, TimeSpan.FromSeconds(20));
        await Eventually.WaitUntilAsync(() => Reason(cluster) == "ProgressDeadlineExceeded", "deadline exceeded after 600 s");
        var pod = cluster.List("", "pods", "shop").Single();
        Assert.Equal("ImagePullBackOff", pod.Objects("status", "containerStatuses").Single().Str("state", "waiting", "reason"));
    }

    private static string? Reason(TestCluster cluster) =>
        cluster.Get("apps", "deployments", "shop", "web")?.Objects("status", "conditions").FirstOrDefault(c => c.Str("type") == "Progressing")?.Str("reason");

    /// <summary>Advances in one-second steps, letting the woken work run between steps.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, TimeSpan total)
    {
        for (var passed = TimeSpan.Zero; passed < total; passed += TimeSpan.FromSeconds(1))
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
