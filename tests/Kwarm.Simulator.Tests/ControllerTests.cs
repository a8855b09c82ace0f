using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>The simulated controllers behave as kube-controller-manager does for what Kwarm relies on.</summary>
public sealed class ControllerTests
{
    private static SimulatorOptions Fast(int nodes = 3) => new() { Nodes = nodes, TimeFactor = 0.01 };

    private static long Count(JsonObject? obj, params string[] path) => obj.Long(path) ?? 0;

    private static bool RolledOut(JsonObject? d) =>
        d is not null && Count(d, "status", "observedGeneration") == Count(d, "metadata", "generation")
        && Count(d, "status", "updatedReplicas") == Count(d, "spec", "replicas")
        && Count(d, "status", "availableReplicas") == Count(d, "spec", "replicas")
        && Count(d, "status", "replicas") == Count(d, "spec", "replicas");

    private static async Task SetImageAsync(TestCluster cluster, string name, string image)
    {
        var container = new JsonObject { ["name"] = name, ["image"] = image };
        var patch = new JsonObject { ["spec"] = new JsonObject { ["template"] = new JsonObject { ["spec"] = new JsonObject { ["containers"] = new JsonArray(container) } } } };
        var (status, body) = await cluster.SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/shop/deployments/{name}", patch, "application/strategic-merge-patch+json");
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
    }

    [Fact]
    public async Task Paused_deployment_gets_no_new_replicaset_but_still_scales_and_rolls_out_when_resumed()
    {
        await using var cluster = await TestCluster.StartAsync(Fast());
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/web:1", replicas: 2));
        await Eventually.WaitUntilAsync(() => RolledOut(cluster.Get("apps", "deployments", "shop", "web")), "first rollout");

        await cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/web", JsonNode.Parse("""{"spec":{"paused":true}}"""), "application/merge-patch+json");
        await SetImageAsync(cluster, "web", "registry.local/web:2");
        await cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/web/scale", JsonNode.Parse("""{"spec":{"replicas":4}}"""), "application/merge-patch+json");
        await Eventually.WaitUntilAsync(() => cluster.List("apps", "replicasets", "shop").Single().Long("spec", "replicas") == 4, "the existing replica set scaled to 4");
        await Eventually.WaitUntilAsync(
            () => cluster.Get("apps", "deployments", "shop", "web") is { } d && Count(d, "metadata", "generation") == 4 && Count(d, "status", "observedGeneration") == 4,
            "the paused changes (pause, image, scale) observed");

        var held = cluster.Get("apps", "deployments", "shop", "web")!;
        Assert.Single(cluster.List("apps", "replicasets", "shop"));
        Assert.Equal(0, Count(held, "status", "updatedReplicas"));
        var progressing = held.Objects("status", "conditions").Single(c => c.Str("type") == "Progressing");
        Assert.Equal("DeploymentPaused", progressing.Str("reason"));
        Assert.All(cluster.List("", "pods", "shop"), p => Assert.Equal("registry.local/web:1", p.Objects("spec", "containers").First().Str("image")));

        await cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/web", JsonNode.Parse("""{"spec":{"paused":false}}"""), "application/merge-patch+json");
        await Eventually.WaitUntilAsync(() => RolledOut(cluster.Get("apps", "deployments", "shop", "web")) && cluster.List("", "pods", "shop").Count == 4, "rollout after resume");
        Assert.Equal(2, cluster.List("apps", "replicasets", "shop").Count);
        Assert.All(cluster.List("", "pods", "shop"), p => Assert.Equal("registry.local/web:2", p.Objects("spec", "containers").First().Str("image")));
        var done = cluster.Get("apps", "deployments", "shop", "web")!;
        Assert.Equal("NewReplicaSetAvailable", done.Objects("status", "conditions").Single(c => c.Str("type") == "Progressing").Str("reason"));
        Assert.Equal("True", done.Objects("status", "conditions").Single(c => c.Str("type") == "Available").Str("status"));
        Assert.Empty(cluster.Cluster.ControllerErrors);
    }

    [Fact]
    public async Task Rolling_update_stays_within_max_surge_and_max_unavailable()
    {
        await using var cluster = await TestCluster.StartAsync(Fast(4));
        await cluster.CreateNamespaceAsync("shop");
        var deployment = TestCluster.Deployment("web", "shop", "registry.local/web:1", replicas: 4);
        deployment["spec"]!["strategy"] = JsonNode.Parse("""{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}""");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", deployment);
        await Eventually.WaitUntilAsync(() => RolledOut(cluster.Get("apps", "deployments", "shop", "web")), "first rollout");

        var sizes = new Dictionary<string, (long Spec, long Available)>();
        long maxTotal = 0, minAvailable = long.MaxValue;
        var gate = new Lock();
        foreach (var rs in cluster.List("apps", "replicasets", "shop"))
        {
            sizes[rs.Str("metadata", "name")!] = (Count(rs, "spec", "replicas"), Count(rs, "status", "availableReplicas"));
        }

        cluster.Cluster.Store.Subscribe(change =>
        {
            if (change.Object.Type.Plural != "replicasets")
            {
                return;
            }

            var rs = change.Object.ToNode();
            lock (gate)
            {
                sizes[change.Object.Name] = change.Type == WatchEventType.Deleted ? (0, 0) : (Count(rs, "spec", "replicas"), Count(rs, "status", "availableReplicas"));
                maxTotal = Math.Max(maxTotal, sizes.Values.Sum(s => s.Spec));
                minAvailable = Math.Min(minAvailable, sizes.Values.Sum(s => s.Available));
            }
        });

        await SetImageAsync(cluster, "web", "registry.local/web:2");
        await Eventually.WaitUntilAsync(() => RolledOut(cluster.Get("apps", "deployments", "shop", "web")) && cluster.List("apps", "replicasets", "shop").Count == 2, "second rollout");
        lock (gate)
        {
            Assert.Equal(5, maxTotal);
            Assert.Equal(4, minAvailable);
        }
    }

    [Fact]
    public async Task Rollout_stuck_on_a_missing_image_exceeds_its_progress_deadline_but_not_while_paused()
    {
        await using var cluster = await TestCluster.StartAsync(Fast());
        cluster.Cluster.Registry.MarkMissing("registry.local/web:typo");
        await cluster.CreateNamespaceAsync("shop");
        var paused = TestCluster.Deployment("held", "shop", "registry.local/web:typo");
        paused["spec"]!["progressDeadlineSeconds"] = 1;
        paused["spec"]!["paused"] = true;
        var stuck = TestCluster.Deployment("stuck", "shop", "registry.local/web:typo");
        stuck["spec"]!["progressDeadlineSeconds"] = 1;
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", paused);
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", stuck);

        await Eventually.WaitUntilAsync(
            () => cluster.Get("apps", "deployments", "shop", "stuck")?.Objects("status", "conditions").Any(c => c.Str("reason") == "ProgressDeadlineExceeded" && c.Str("status") == "False") == true,
            "progress deadline exceeded");
        var held = cluster.Get("apps", "deployments", "shop", "held")!;
        Assert.Equal("DeploymentPaused", held.Objects("status", "conditions").Single(c => c.Str("type") == "Progressing").Str("reason"));
    }

    [Fact]
    public async Task Job_completes_then_is_deleted_after_its_ttl()
    {
        await using var cluster = await TestCluster.StartAsync(Fast());
        await cluster.CreateNamespaceAsync("shop");

        // At this time factor the one-second TTL is ten real milliseconds, shorter than a poll: the completed Job and
        // its finished pod are caught from the store's change feed, not read back after the fact.
        var gate = new Lock();
        JsonObject? completedJob = null;
        JsonObject? finishedPod = null;
        cluster.Cluster.Store.Subscribe(change =>
        {
            var obj = change.Object.ToNode();
            lock (gate)
            {
                if (change.Object.Type.Plural == "jobs" && completedJob is null && obj.Objects("status", "conditions").Any(c => c.Str("type") == "Complete"))
                {
                    completedJob = obj;
                }
                else if (change.Object.Type.Plural == "pods" && finishedPod is null && obj.Str("status", "phase") == "Succeeded")
                {
                    finishedPod = obj;
                }
            }
        });

        await cluster.CreateAsync("/apis/batch/v1/namespaces/shop/jobs", Job("pull", "registry.local/web:1", ttl: 1));
        await Eventually.WaitUntilAsync(() => { lock (gate) { return completedJob is not null && finishedPod is not null; } }, "job complete");
        JsonObject job, pod;
        lock (gate)
        {
            (job, pod) = (completedJob!, finishedPod!);
        }

        Assert.Equal(1, Count(job, "status", "succeeded"));
        Assert.Equal(job.Str("metadata", "uid"), job.Str("spec", "selector", "matchLabels", "batch.kubernetes.io/controller-uid"));
        Assert.Equal("pull", job.Str("spec", "template", "metadata", "labels", "job-name"));
        Assert.Equal("pull", job.Str("metadata", "labels", "job-name"));
        Assert.NotNull(job.Str("status", "completionTime"));
        Assert.Equal("pull", pod.Str("metadata", "labels", "job-name"));

        // As the real job controller records them: one event per pod, naming it, and one when the Job completes.
        await Eventually.WaitUntilAsync(() => cluster.List("", "events", "shop").Any(e => e.Str("involvedObject", "kind") == "Job" && e.Str("reason") == "Completed"), "Completed event");
        var events = cluster.List("", "events", "shop").Where(e => e.Str("involvedObject", "kind") == "Job").ToList();
        Assert.Equal($"Created pod: {pod.Str("metadata", "name")}", events.Single(e => e.Str("reason") == "SuccessfulCreate").Str("message"));
        Assert.Equal("Job completed", events.Single(e => e.Str("reason") == "Completed").Str("message"));
        Assert.All(pod.Objects("status", "conditions"), c => Assert.True(c.ContainsKey("lastProbeTime"), c.ToJsonString()));

        await Eventually.WaitUntilAsync(() => cluster.Get("batch", "jobs", "shop", "pull") is null && cluster.List("", "pods", "shop").Count == 0, "job and pod removed after the TTL");
    }

    [Fact]
    public async Task Job_fails_past_its_backoff_limit()
    {
        await using var cluster = await TestCluster.StartAsync(Fast());
        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/crash:1", 1024, ExitCode: 1));
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/batch/v1/namespaces/shop/jobs", Job("crash", "registry.local/crash:1", backoffLimit: 1));
        await Eventually.WaitUntilAsync(() => cluster.Get("batch", "jobs", "shop", "crash")?.Objects("status", "conditions").Any(c => c.Str("type") == "Failed") == true, "job failed");
        var job = cluster.Get("batch", "jobs", "shop", "crash")!;
        Assert.Equal("BackoffLimitExceeded", job.Objects("status", "conditions").Single(c => c.Str("type") == "Failed").Str("reason"));
        Assert.Equal(2, Count(job, "status", "failed"));
        Assert.All(cluster.List("", "pods", "shop"), p => Assert.Equal(1, p.Objects("status", "containerStatuses").Single().Long("state", "terminated", "exitCode")));
    }

    [Fact]
    public async Task Job_past_its_active_deadline_fails_and_its_pod_goes()
    {
        await using var cluster = await TestCluster.StartAsync(Fast());
        cluster.Cluster.Registry.MarkMissing("registry.local/typo:1");
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/batch/v1/namespaces/shop/jobs", Job("stuck", "registry.local/typo:1", deadline: 1));
        await Eventually.WaitUntilAsync(() => cluster.Get("batch", "jobs", "shop", "stuck")?.Objects("status", "conditions").Any(c => c.Str("type") == "Failed") == true, "job failed at its deadline");
        Assert.Equal("DeadlineExceeded", cluster.Get("batch", "jobs", "shop", "stuck")!.Objects("status", "conditions").Single(c => c.Str("type") == "Failed").Str("reason"));
        await Eventually.WaitUntilAsync(() => cluster.List("", "pods", "shop").Count == 0, "active pod deleted");
    }

    [Fact]
    public async Task Foreground_deletion_waits_for_dependents_and_orphan_keeps_them()
    {
        await using var cluster = await TestCluster.StartAsync(Fast());
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("fg", "shop", "registry.local/web:1"));
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("orphan", "shop", "registry.local/web:1"));
        await Eventually.WaitUntilAsync(() => cluster.List("", "pods", "shop").Count == 4, "pods of both deployments");

        var (status, pending) = await cluster.SendAsync(HttpMethod.Delete, "/apis/apps/v1/namespaces/shop/deployments/fg?propagationPolicy=Foreground");
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Accepted);
        Assert.NotNull(pending!["metadata"]!["deletionTimestamp"]);
        Assert.Contains("foregroundDeletion", pending["metadata"]!["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        await Eventually.WaitUntilAsync(() => cluster.Get("apps", "deployments", "shop", "fg") is null, "foreground deletion finished");
        Assert.DoesNotContain(cluster.List("apps", "replicasets", "shop"), rs => rs.Str("metadata", "name")!.StartsWith("fg-", StringComparison.Ordinal));

        await cluster.SendAsync(HttpMethod.Delete, "/apis/apps/v1/namespaces/shop/deployments/orphan", new JsonObject { ["propagationPolicy"] = "Orphan" });
        await Eventually.WaitUntilAsync(() => cluster.Get("apps", "deployments", "shop", "orphan") is null, "orphan deletion finished");
        var kept = cluster.List("apps", "replicasets", "shop").Single();
        Assert.Null(kept.At("metadata", "ownerReferences"));
        Assert.Equal(2, cluster.List("", "pods", "shop").Count);
    }

    [Fact]
    public async Task Scheduler_honours_selectors_affinity_taints_and_cordon()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { TimeFactor = 0.01 });
        cluster.Cluster.AddNodes(
        [
            new NodeSpec("plain"),
            new NodeSpec("gpu") { Labels = new Dictionary<string, string> { ["pool"] = "gpu" }, Taints = [("dedicated", "gpu", "NoSchedule")] },
            new NodeSpec("cordoned") { Unschedulable = true },
        ]);
        await cluster.CreateNamespaceAsync("shop");
        // Pods are refused until the service-account controller has made the namespace's default account, as on a real cluster.
        await Eventually.WaitUntilAsync(() => cluster.Get("", "serviceaccounts", "shop", "default") is not null, "service account shop/default");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", Pod("anywhere", null));
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", Pod("gpu-untolerated", JsonNode.Parse("""{"nodeSelector":{"pool":"gpu"}}""")));
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", Pod("gpu-tolerated", JsonNode.Parse("""{"nodeSelector":{"pool":"gpu"},"tolerations":[{"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]}""")));
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", Pod("pinned", JsonNode.Parse("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["cordoned"]}]}]}}}}""")));

        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "gpu-tolerated")?.Str("spec", "nodeName") == "gpu", "tolerating pod on the gpu node");
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "anywhere")?.Str("spec", "nodeName") == "plain", "plain pod on the only untainted, schedulable node");
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "pinned")?.Objects("status", "conditions").Any(c => c.Str("reason") == "Unschedulable") == true, "pinned pod unschedulable on a cordoned node");
        var untolerated = cluster.Get("", "pods", "shop", "gpu-untolerated")!;
        Assert.Null(untolerated.Str("spec", "nodeName"));
        Assert.Contains("0/3 nodes are available", untolerated.Objects("status", "conditions").Single(c => c.Str("type") == "PodScheduled").Str("message"));

        // kube-scheduler writes its Events through events.k8s.io: an eventTime and an action, no count, no source.
        var scheduled = cluster.List("", "events", "shop").Single(e => e.Str("involvedObject", "name") == "anywhere" && e.Str("reason") == "Scheduled");
        Assert.Equal(("Binding", "default-scheduler", null, null), (scheduled.Str("action"), scheduled.Str("reportingComponent"), scheduled.Long("count"), scheduled.Str("source", "component")));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", scheduled.Str("eventTime"));
        Assert.Equal("Scheduling", cluster.List("", "events", "shop").First(e => e.Str("involvedObject", "name") == "gpu-untolerated" && e.Str("reason") == "FailedScheduling").Str("action"));

        var (uncordoned, _) = await cluster.SendAsync(HttpMethod.Patch, "/api/v1/nodes/cordoned", JsonNode.Parse("""{"spec":{"unschedulable":null}}"""), "application/strategic-merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, uncordoned);
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "pinned")?.Str("spec", "nodeName") == "cordoned", "pinned pod scheduled after uncordon");
    }

    [Fact]
    public async Task Scheduler_fits_resource_requests_to_allocatable()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { TimeFactor = 0.01 });
        cluster.Cluster.AddNodes([new NodeSpec("small") { Cpu = "1", Memory = "1Gi" }]);
        await cluster.CreateNamespaceAsync("shop");
        var requests = JsonNode.Parse("""{"containers":[{"name":"main","image":"registry.local/web:1","resources":{"requests":{"cpu":"600m","memory":"100Mi"}}}]}""");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", Pod("first", requests));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "first")?.Str("spec", "nodeName") == "small", "first pod placed");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", Pod("second", requests));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "second")?.Objects("status", "conditions").Any(c => c.Str("reason") == "Unschedulable") == true, "second pod refused");
        Assert.Equal("0/1 nodes are available: 1 Insufficient cpu.", cluster.Get("", "pods", "shop", "second")!.Objects("status", "conditions").Single(c => c.Str("type") == "PodScheduled").Str("message"));

        await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/shop/pods/first");
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "second")?.Str("spec", "nodeName") == "small", "second pod placed once capacity is free");
    }

    internal static JsonObject Pod(string name, JsonNode? extraSpec, string image = "registry.local/web:1")
    {
        var spec = extraSpec?.DeepClone().AsObject() ?? [];
        spec["containers"] ??= new JsonArray(new JsonObject { ["name"] = "main", ["image"] = image });
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec };
    }

    private static JsonObject Job(string name, string image, int? ttl = null, int backoffLimit = 0, int? deadline = null)
    {
        var spec = new JsonObject
        {
            ["backoffLimit"] = backoffLimit,
            ["template"] = new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["restartPolicy"] = "Never",
                    ["containers"] = new JsonArray(new JsonObject { ["name"] = "pull", ["image"] = image, ["command"] = new JsonArray("/kwarm/noop") }),
                },
            },
        };
        if (ttl is not null)
        {
            spec["ttlSecondsAfterFinished"] = ttl;
        }

        if (deadline is not null)
        {
            spec["activeDeadlineSeconds"] = deadline;
        }

        return new JsonObject { ["apiVersion"] = "batch/v1", ["kind"] = "Job", ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec };
    }
}
