using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary>Smaller behaviours: Recreate, collection deletes, namespace cleanup, the benchmark's own run.</summary>
public sealed class MoreBehaviourTests
{
    [Fact]
    public async Task Recreate_strategy_removes_old_pods_before_starting_new_ones()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 2, TimeFactor = 0.01 });
        await cluster.CreateNamespaceAsync("shop");
        var deployment = TestCluster.Deployment("web", "shop", "registry.local/web:1", replicas: 2);
        deployment["spec"]!["strategy"] = JsonNode.Parse("""{"type":"Recreate"}""");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", deployment);
        await Eventually.WaitUntilAsync(() => cluster.Get("apps", "deployments", "shop", "web")?.Long("status", "availableReplicas") == 2, "first rollout");

        var images = new HashSet<string>();
        var overlap = false;
        var gate = new Lock();
        cluster.Cluster.Store.Subscribe(change =>
        {
            if (change.Object.Type.Plural != "pods")
            {
                return;
            }

            lock (gate)
            {
                var live = cluster.Cluster.Store.List(change.Object.Type, "shop").Items.Select(p => p.ToNode().Objects("spec", "containers").First().Str("image")!).ToHashSet();
                overlap |= live.Count > 1;
                images.UnionWith(live);
            }
        });
        var (status, _) = await cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/web", JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.local/web:2"}]}}}}"""), "application/strategic-merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        await Eventually.WaitUntilAsync(
            () => cluster.Get("apps", "deployments", "shop", "web") is { } d && d.Long("status", "observedGeneration") == d.Long("metadata", "generation")
                && d.Long("status", "updatedReplicas") == 2 && d.Long("status", "availableReplicas") == 2 && d.Long("status", "replicas") == 2,
            "recreated");
        lock (gate)
        {
            Assert.False(overlap, "old and new pods must never run together under Recreate");
            Assert.Contains("registry.local/web:2", images);
        }
    }

    [Fact]
    public async Task Delete_collection_and_namespace_deletion_remove_contents()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01 });
        await cluster.CreateNamespaceAsync("team");
        foreach (var (name, tier) in new[] { ("a", "x"), ("b", "x"), ("c", "y") })
        {
            await cluster.CreateAsync("/api/v1/namespaces/team/configmaps", new JsonObject { ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["tier"] = tier } } });
        }

        var (status, deleted) = await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/team/configmaps?labelSelector=tier%3Dx");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, deleted!["items"]!.AsArray().Count);
        Assert.Equal(["c"], cluster.List("", "configmaps", "team").Select(c => c.Str("metadata", "name")));

        await cluster.CreateAsync("/apis/apps/v1/namespaces/team/deployments", TestCluster.Deployment("web", "team", "registry.local/web:1"));
        await Eventually.WaitUntilAsync(() => cluster.List("", "pods", "team").Count == 2, "pods in the namespace");
        await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/team");
        await Eventually.WaitUntilAsync(
            () => cluster.List("", "pods", "team").Count == 0 && cluster.List("apps", "deployments", "team").Count == 0 && cluster.List("", "configmaps", "team").Count == 0,
            "namespace contents removed");
        var (created, _) = await cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/team/configmaps", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "late" } });
        Assert.Equal(HttpStatusCode.NotFound, created);
    }

    [Fact]
    public async Task Benchmark_reports_its_measures()
    {
        var report = await Benchmark.RunAsync(nodes: 5, pods: 20, loadDuration: TimeSpan.FromMilliseconds(500), clients: 2, TestContext.Current.CancellationToken);
        Assert.StartsWith("## Simulator", report, StringComparison.Ordinal);
        Assert.Contains("| pods created, scheduled, pulled and Running (1 Deployments) | 20 in ", report);
        Assert.Matches(@"\| API requests served under load \(2 concurrent HTTPS clients, \d+ s\) \| [1-9]\d* requests/s, 0 errors \|", report);
    }
}
