using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// Kwarm's mechanism played by hand on the simulator: hold a rollout, run one pinned pull Job per node, release,
/// and see the new pods start without a single pull.
/// </summary>
public sealed class PrePullFlowTests
{
    [Fact]
    public async Task Pre_pulled_images_make_the_released_rollout_pull_free()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 3, TimeFactor = 0.01 });
        var registry = cluster.Cluster.Registry;
        registry.Add(new RegistryImage("registry.local/shop/web:1", 10_000_000));
        registry.Add(new RegistryImage("registry.local/shop/web:2", 300_000_000));
        registry.Add(new RegistryImage("registry.local/kwarm/tools:1", 2_000_000));
        await cluster.CreateNamespaceAsync("shop");
        var deployment = TestCluster.Deployment("web", "shop", "registry.local/shop/web:1", replicas: 3);
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", deployment);
        await Eventually.WaitUntilAsync(() => Available(cluster) == 3, "first rollout");

        // The hold: paused, then the new image.
        await Patch(cluster, "/apis/apps/v1/namespaces/shop/deployments/web", """{"spec":{"paused":true}}""");
        await Patch(cluster, "/apis/apps/v1/namespaces/shop/deployments/web", """{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.local/shop/web:2"}]}}}}""");

        var nodes = cluster.List("", "nodes").Select(n => n.Str("metadata", "name")!).ToList();
        foreach (var node in nodes)
        {
            await cluster.CreateAsync("/apis/batch/v1/namespaces/shop/jobs", PullJob(node, "registry.local/shop/web:2"));
        }

        await Eventually.WaitUntilAsync(
            () => cluster.List("batch", "jobs", "shop").Count(j => j.Objects("status", "conditions").Any(c => c.Str("type") == "Complete")) == nodes.Count,
            "a completed pull Job on every node");
        foreach (var node in nodes)
        {
            var pod = cluster.List("", "pods", "shop").Single(p => p.Str("metadata", "labels", "job-name") == $"pull-{node}");
            Assert.Equal(node, pod.Str("spec", "nodeName"));
            var pull = pod.Objects("status", "containerStatuses").Single();
            Assert.StartsWith("registry.local/shop/web@sha256:", pull.Str("imageID"), StringComparison.Ordinal);
            Assert.Equal("Completed", pod.Objects("status", "initContainerStatuses").Single().Str("state", "terminated", "reason"));
            var images = cluster.Get("", "nodes", "", node)!.Objects("status", "images").SelectMany(i => i["names"]!.AsArray().Select(n => n!.GetValue<string>()));
            Assert.Contains("registry.local/shop/web:2", images);
        }

        Assert.Single(cluster.List("apps", "replicasets", "shop"));
        var pullsBeforeRelease = nodes.ToDictionary(n => n, cluster.Cluster.PullCount);

        // The release: the rollout starts at once and every new pod finds its image on its node.
        await Patch(cluster, "/apis/apps/v1/namespaces/shop/deployments/web", """{"spec":{"paused":false}}""");
        await Eventually.WaitUntilAsync(
            () => cluster.Get("apps", "deployments", "shop", "web") is { } d && d.Long("status", "updatedReplicas") == 3 && Available(cluster) == 3 && d.Long("status", "replicas") == 3,
            "rollout after release");
        Assert.Equal(pullsBeforeRelease, nodes.ToDictionary(n => n, cluster.Cluster.PullCount));
        var newPods = cluster.List("", "pods", "shop").Where(p => p.Str("metadata", "labels", "app") == "web").Select(p => p.Str("metadata", "name")!).ToHashSet();
        Assert.Equal(3, newPods.Count);
        var pulled = cluster.List("", "events", "shop").Where(e => newPods.Contains(e.Str("involvedObject", "name")!) && e.Str("reason") == "Pulled").ToList();
        Assert.Equal(3, pulled.Count);
        Assert.All(pulled, e => Assert.Equal("Container image \"registry.local/shop/web:2\" already present on machine", e.Str("message")));
        Assert.Empty(cluster.Cluster.ControllerErrors);
    }

    private static long Available(TestCluster cluster) =>
        cluster.Get("apps", "deployments", "shop", "web")?.Long("status", "availableReplicas") ?? 0;

    private static async Task Patch(TestCluster cluster, string path, string patch)
    {
        var (status, body) = await cluster.SendAsync(HttpMethod.Patch, path, JsonNode.Parse(patch), "application/strategic-merge-patch+json");
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
    }

    /// <summary>The shape DESIGN §5 gives a pull Job: pinned by matchFields, noop copied by an init container, backoffLimit 0.</summary>
    private static JsonObject PullJob(string node, string image) => JsonNode.Parse($$"""
        {
          "apiVersion": "batch/v1", "kind": "Job",
          "metadata": { "name": "pull-{{node}}" },
          "spec": {
            "backoffLimit": 0, "activeDeadlineSeconds": 600, "ttlSecondsAfterFinished": 3600,
            "template": {
              "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": false,
                "affinity": { "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [
                  { "matchFields": [ { "key": "metadata.name", "operator": "In", "values": [ "{{node}}" ] } ] } ] } } },
                "volumes": [ { "name": "kwarm", "emptyDir": {} } ],
                "initContainers": [ { "name": "tools", "image": "registry.local/kwarm/tools:1", "command": [ "/cp-noop", "/kwarm/noop" ],
                                      "volumeMounts": [ { "name": "kwarm", "mountPath": "/kwarm" } ] } ],
                "containers": [ { "name": "pull", "image": "{{image}}", "command": [ "/kwarm/noop" ], "imagePullPolicy": "IfNotPresent",
                                  "resources": { "requests": { "cpu": "100m", "memory": "64Mi" }, "limits": { "cpu": "100m", "memory": "64Mi" } },
                                  "volumeMounts": [ { "name": "kwarm", "mountPath": "/kwarm" } ] } ]
              }
            }
          }
        }
        """)!.AsObject();
}
