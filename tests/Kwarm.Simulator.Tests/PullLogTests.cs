using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Simulator.Tests;

/// <summary>The kubelets' pull log (<see cref="SimulatedCluster.Pulls"/>): one record per pull with when it was asked for, started and finished.</summary>
public sealed class PullLogTests
{
    private const long MiB = 1024 * 1024;
    private static readonly JsonNode OnFirstNode = JsonNode.Parse("""{"nodeName":"node-0001"}""")!;

    [Fact]
    public async Task A_pull_queued_behind_another_on_its_node_starts_when_that_one_finishes()
    {
        // Frozen fake time: both pods ask for their images at the same simulated instant, and only the test moves the clock.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var askedAt = time.GetUtcNow();
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 1, Time = time, NodeBandwidthBytesPerSecond = 100 * MiB });
        await cluster.CreateNamespaceAsync("shop");
        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/shop/big:1", 200 * MiB));
        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/shop/small:1", 100 * MiB));

        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("first", OnFirstNode, "registry.local/shop/big:1"));
        await Eventually.WaitUntilAsync(() => PullingEventSeen(cluster, "first"), "the first pod's pull to begin");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("second", OnFirstNode, "registry.local/shop/small:1"));
        await Eventually.WaitUntilAsync(() => PullingEventSeen(cluster, "second"), "the second pod to ask for its image");
        Assert.Empty(cluster.Cluster.Pulls);

        for (var step = 0; step < 100 && cluster.Cluster.Pulls.Count < 2; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        var pulls = cluster.Cluster.Pulls;
        Assert.Equal(2, pulls.Count);
        var first = Assert.Single(pulls, p => p.PodName == "first");
        var second = Assert.Single(pulls, p => p.PodName == "second");
        Assert.All(pulls, p => Assert.Equal(("node-0001", "shop", true, ""), (p.Node, p.PodNamespace, p.Succeeded, p.Reason)));
        Assert.Equal(("registry.local/shop/big:1", "registry.local/shop/small:1"), (first.Image, second.Image));
        Assert.Equal(cluster.Get("", "pods", "shop", "second")!.Str("metadata", "uid"), second.PodUid);

        Assert.Equal(askedAt, first.RequestedAt);
        Assert.Equal(askedAt, first.StartedAt);
        Assert.True(first.Transfer >= TimeSpan.FromSeconds(2), $"200 MiB at 100 MiB/s takes 2 s, recorded {first.Transfer}");
        Assert.Equal(askedAt, second.RequestedAt);
        Assert.True(second.StartedAt >= first.FinishedAt, $"one pull at a time per node: second started {second.StartedAt:O}, first finished {first.FinishedAt:O}");
        Assert.True(second.Transfer >= TimeSpan.FromSeconds(1), $"100 MiB at 100 MiB/s takes 1 s, recorded {second.Transfer}");
        Assert.True(second.PodWaited >= TimeSpan.FromSeconds(3), $"the second pod waited for both pulls, recorded {second.PodWaited}");
    }

    [Fact]
    public async Task Failed_pulls_are_recorded_with_the_kubelet_reason_and_an_image_already_present_is_no_pull()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01 });
        await cluster.CreateNamespaceAsync("shop");
        cluster.Cluster.Registry.MarkMissing("registry.local/shop/typo:1");

        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("web", OnFirstNode, "registry.local/shop/web:1"));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "web")?.Str("status", "phase") == "Running", "web running");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("typo", OnFirstNode, "registry.local/shop/typo:1"));
        await Eventually.WaitUntilAsync(() => cluster.Cluster.Pulls.Any(p => p.PodName == "typo"), "the failed pull recorded");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("web-again", OnFirstNode, "registry.local/shop/web:1"));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "web-again")?.Str("status", "phase") == "Running", "web-again running from the cache");

        var web = Assert.Single(cluster.Cluster.Pulls, p => p.Image == "registry.local/shop/web:1");
        Assert.Equal(("web", true), (web.PodName, web.Succeeded));
        Assert.True(web.RequestedAt <= web.StartedAt && web.StartedAt <= web.FinishedAt, $"ordered times: {web}");
        var typo = cluster.Cluster.Pulls.First(p => p.PodName == "typo");
        Assert.Equal((false, "ErrImagePull", "registry.local/shop/typo:1"), (typo.Succeeded, typo.Reason, typo.Image));
        Assert.DoesNotContain(cluster.Cluster.Pulls, p => p.PodName == "web-again");
        Assert.Equal(1, cluster.Cluster.PullCount("node-0001"));
    }

    private static bool PullingEventSeen(TestCluster cluster, string pod) =>
        cluster.List("", "events", "shop").Any(e => e.Str("reason") == "Pulling" && e.Str("involvedObject", "name") == pod);
}
