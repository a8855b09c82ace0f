using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>Simulated kubelets: pulls, pull failures with the kubelet's messages, secrets, init containers, node status.</summary>
public sealed class NodeTests
{
    private static async Task<TestCluster> StartAsync(SimulatorOptions? options = null)
    {
        var cluster = await TestCluster.StartAsync(options ?? new SimulatorOptions { Nodes = 1, TimeFactor = 0.01 });
        await cluster.CreateNamespaceAsync("shop");
        return cluster;
    }

    private static JsonObject? Waiting(TestCluster cluster, string pod) =>
        cluster.Get("", "pods", "shop", pod)?.Objects("status", "containerStatuses").FirstOrDefault()?.At("state", "waiting") as JsonObject;

    /// <summary>
    /// Every waiting state the pod's containers pass through, recorded from the store's commits: ErrImagePull lasts only
    /// a moment at a small time factor, so polling could miss it.
    /// </summary>
    private static System.Collections.Concurrent.ConcurrentQueue<(string Reason, string Message)> RecordWaiting(TestCluster cluster, string pod)
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string, string)>();
        cluster.Cluster.Store.Subscribe(change =>
        {
            if (change.Object.Type.Plural != "pods" || change.Object.Name != pod)
            {
                return;
            }

            var node = change.Object.ToNode();
            foreach (var status in node.Objects("status", "containerStatuses").Concat(node.Objects("status", "initContainerStatuses")))
            {
                if (status.At("state", "waiting") is JsonObject waiting)
                {
                    seen.Enqueue((waiting.Str("reason") ?? "", waiting.Str("message") ?? ""));
                }
            }
        });
        return seen;
    }

    [Fact]
    public async Task Missing_image_shows_ErrImagePull_then_ImagePullBackOff_with_kubelet_messages()
    {
        await using var cluster = await StartAsync();
        cluster.Cluster.Registry.MarkMissing("registry.local/shop/web:9.9");
        var seen = RecordWaiting(cluster, "typo");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("typo", null, "registry.local/shop/web:9.9"));

        await Eventually.WaitUntilAsync(() => seen.Any(s => s.Reason == "ImagePullBackOff"), "ImagePullBackOff");
        var states = seen.ToList();
        var first = states.FindIndex(s => s.Reason == "ErrImagePull");
        Assert.True(first >= 0 && first < states.FindIndex(s => s.Reason == "ImagePullBackOff"), "ErrImagePull comes before ImagePullBackOff");
        Assert.Equal(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"registry.local/shop/web:9.9\": failed to resolve reference \"registry.local/shop/web:9.9\": registry.local/shop/web:9.9: not found",
            states[first].Message);
        Assert.Equal("Back-off pulling image \"registry.local/shop/web:9.9\"", states.First(s => s.Reason == "ImagePullBackOff").Message);
        Assert.Equal("", cluster.Get("", "pods", "shop", "typo")!.Objects("status", "containerStatuses").Single().Str("imageID"));
        Assert.Contains(cluster.List("", "events", "shop"), e => e.Str("reason") == "Failed" && e.Str("message")!.StartsWith("Failed to pull image \"registry.local/shop/web:9.9\": rpc error", StringComparison.Ordinal));

        // Repeats are one Event with a count, as client-go's recorder aggregates them.
        await Eventually.WaitUntilAsync(() => cluster.List("", "events", "shop").Any(e => e.Str("reason") == "BackOff" && e.Long("count") >= 2), "a repeated back-off counted");
        Assert.Single(cluster.List("", "events", "shop"), e => e.Str("reason") == "BackOff");
    }

    [Fact]
    public async Task Invalid_reference_is_InvalidImageName()
    {
        await using var cluster = await StartAsync();
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("bad", null, "Registry.Local/UPPER:1"));
        await Eventually.WaitUntilAsync(() => Waiting(cluster, "bad")?.Str("reason") == "InvalidImageName", "InvalidImageName");
        Assert.Contains("invalid reference format", Waiting(cluster, "bad")!.Str("message"));
    }

    [Fact]
    public async Task Private_image_needs_a_matching_pull_secret_which_the_service_account_can_carry()
    {
        await using var cluster = await StartAsync();
        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/private/app:1", 10 * 1024 * 1024, Private: true));
        var anonymous = RecordWaiting(cluster, "anonymous");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("anonymous", null, "registry.local/private/app:1"));
        await Eventually.WaitUntilAsync(() => anonymous.Any(s => s.Reason == "ErrImagePull"), "401 on a private image");
        Assert.EndsWith("pulling from host registry.local failed with status code [manifests 1]: 401 Unauthorized", anonymous.First(s => s.Reason == "ErrImagePull").Message);

        var docker = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"auths":{"registry.local":{"auth":"dXNlcjpwYXNz"}}}"""));
        await cluster.CreateAsync("/api/v1/namespaces/shop/secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "regcred" },
            ["type"] = "kubernetes.io/dockerconfigjson",
            ["data"] = new JsonObject { [".dockerconfigjson"] = docker },
        });
        await cluster.CreateAsync("/api/v1/namespaces/shop/serviceaccounts", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "puller" },
            ["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = "regcred" }),
        });
        var created = await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("authorised", JsonNode.Parse("""{"serviceAccountName":"puller"}""")!, "registry.local/private/app:1"));
        Assert.Equal("regcred", created["spec"]!["imagePullSecrets"]![0]!["name"]!.GetValue<string>());

        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "authorised")?.Str("status", "phase") == "Running", "private image pulled with the secret");
        var status = cluster.Get("", "pods", "shop", "authorised")!.Objects("status", "containerStatuses").Single();
        Assert.StartsWith("registry.local/private/app@sha256:", status.Str("imageID"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_containers_run_to_completion_before_containers_start()
    {
        await using var cluster = await StartAsync();
        var spec = JsonNode.Parse("""{"initContainers":[{"name":"copy","image":"registry.local/tools:1"}]}""");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("with-init", spec));
        var order = new List<string>();
        var gate = new Lock();
        cluster.Cluster.Store.Subscribe(change =>
        {
            if (change.Object.Name != "with-init")
            {
                return;
            }

            var pod = change.Object.ToNode();
            lock (gate)
            {
                if (pod.Objects("status", "initContainerStatuses").Any(s => s.At("state", "terminated") is not null) && !order.Contains("init done"))
                {
                    order.Add("init done");
                }

                if (pod.Objects("status", "containerStatuses").Any(s => s.At("state", "running") is not null) && !order.Contains("main running"))
                {
                    order.Add("main running");
                }
            }
        });
        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "with-init")), "pod ready");
        lock (gate)
        {
            Assert.Equal(["init done", "main running"], order);
        }

        var pod = cluster.Get("", "pods", "shop", "with-init")!;
        Assert.Equal("Completed", pod.Objects("status", "initContainerStatuses").Single().Str("state", "terminated", "reason"));
        Assert.Equal("True", pod.Objects("status", "conditions").Single(c => c.Str("type") == "Initialized").Str("status"));
    }

    [Fact]
    public async Task Status_images_lists_at_most_fifty_largest_images_and_grows_with_pulls()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { TimeFactor = 0.01 });
        for (var i = 1; i <= 60; i++)
        {
            cluster.Cluster.Registry.Add(new RegistryImage($"registry.local/preloaded/img{i}:1", i * 1_000_000L));
        }

        cluster.Cluster.AddNodes([new NodeSpec("warm") { PreloadedImages = [.. Enumerable.Range(1, 60).Select(i => $"registry.local/preloaded/img{i}:1")] }]);
        var images = cluster.Get("", "nodes", "", "warm")!["status"]!["images"]!.AsArray();
        Assert.Equal(50, images.Count);
        Assert.Equal(60_000_000L, images[0]!["sizeBytes"]!.GetValue<long>());
        Assert.Equal(["registry.local/preloaded/img60@" + images[0]!["names"]![0]!.GetValue<string>().Split('@')[1], "registry.local/preloaded/img60:1"], images[0]!["names"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(11_000_000L, images[49]!["sizeBytes"]!.GetValue<long>());

        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/big:1", 100_000_000L));
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("big", null, "registry.local/big:1"));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "nodes", "", "warm")!["status"]!["images"]![0]!["names"]!.AsArray().Any(n => n!.GetValue<string>() == "registry.local/big:1"), "pulled image listed first");
        Assert.Equal(50, cluster.Get("", "nodes", "", "warm")!["status"]!["images"]!.AsArray().Count);
        Assert.Equal(1, cluster.Cluster.PullCount("warm"));
    }

    [Fact]
    public async Task Nodes_report_images_like_containerd_with_one_cache_entry_per_normalised_reference()
    {
        await using var cluster = await StartAsync();
        cluster.Cluster.Registry.Add(new RegistryImage("nginx:1.27.1", 70_000_000));
        var digest = ImageRegistry.ContentDigest("docker.io/library/nginx:1.27.1", 70_000_000, null, 0);
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("short", null, "nginx:1.27.1"));
        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "short")), "the nginx pod ready");

        var container = cluster.Get("", "pods", "shop", "short")!.Objects("status", "containerStatuses").Single();
        Assert.Equal("docker.io/library/nginx:1.27.1", container.Str("image"));
        Assert.Equal("docker.io/library/nginx@" + digest, container.Str("imageID"));
        var listed = Assert.Single(NodeImages(cluster), i => i.Names.Contains("docker.io/library/nginx:1.27.1"));
        Assert.Equal(["docker.io/library/nginx@" + digest, "docker.io/library/nginx:1.27.1"], listed.Names);
        Assert.Equal(70_000_000, listed.Size);

        // The fully qualified name, and a pin to the same digest, are the image already there: no second pull, no second entry.
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("qualified", null, "docker.io/library/nginx:1.27.1"));
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("pinned", null, "nginx:1.27.1@" + digest));
        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "qualified")) && PodReady(cluster.Get("", "pods", "shop", "pinned")), "both pods ready");
        Assert.Equal(1, cluster.Cluster.PullCount("node-0001"));
        Assert.Contains(cluster.List("", "events", "shop"), e => e.Str("involvedObject", "name") == "qualified" && e.Str("message") == "Container image \"docker.io/library/nginx:1.27.1\" already present on machine");
        Assert.Equal("docker.io/library/nginx@" + digest, cluster.Get("", "pods", "shop", "pinned")!.Objects("status", "containerStatuses").Single().Str("image"));
        Assert.Single(NodeImages(cluster), i => i.Names.Any(n => n.StartsWith("docker.io/library/nginx", StringComparison.Ordinal)));

        // A Docker Hub name with a namespace gets the registry and the latest tag.
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("team", null, "team/app"));
        await Eventually.WaitUntilAsync(() => NodeImages(cluster).Any(i => i.Names.Contains("docker.io/team/app:latest")), "team/app listed");
        var team = NodeImages(cluster).Single(i => i.Names.Contains("docker.io/team/app:latest"));
        Assert.StartsWith("docker.io/team/app@sha256:", team.Names[0], StringComparison.Ordinal);
        Assert.DoesNotContain(NodeImages(cluster).SelectMany(i => i.Names), n => n is "team/app" or "nginx:1.27.1");
    }

    [Fact]
    public async Task A_digest_reference_is_listed_by_its_repo_digest_alone()
    {
        await using var cluster = await StartAsync();
        const string Pinned = "registry.local/shop/web:1.2@sha256:00000000000000000000000000000000000000000000000000000000000000aa";
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("pinned", null, Pinned));
        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "pinned")), "pinned pod ready");
        var listed = Assert.Single(NodeImages(cluster));
        Assert.Equal(["registry.local/shop/web@sha256:00000000000000000000000000000000000000000000000000000000000000aa"], listed.Names);
        Assert.Equal(listed.Names[0], cluster.Get("", "pods", "shop", "pinned")!.Objects("status", "containerStatuses").Single().Str("imageID"));
    }

    [Fact]
    public async Task New_nodes_get_the_not_ready_taint_from_the_API_server_and_simulated_kubelets_clear_it()
    {
        await using var cluster = await StartAsync();
        var nodeEvents = new System.Collections.Concurrent.ConcurrentQueue<JsonObject>();
        cluster.Cluster.Store.Subscribe(change =>
        {
            if (change.Object.Type.Plural == "nodes" && change.Object.Name == "joiner")
            {
                nodeEvents.Enqueue(change.Object.ToNode());
            }
        });
        cluster.Cluster.AddNodes([new NodeSpec("joiner")]);
        Assert.Contains(nodeEvents.First().Objects("spec", "taints"), t => t.Str("key") == "node.kubernetes.io/not-ready" && t.Str("effect") == "NoSchedule");
        Assert.Null(cluster.Get("", "nodes", "", "joiner")!.At("spec", "taints"));

        // A Node created through the API (no simulated kubelet behind it) keeps the taint, as on a real server.
        var created = await cluster.CreateAsync("/api/v1/nodes", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "bare" } });
        Assert.Equal("node.kubernetes.io/not-ready", created.Objects("spec", "taints").Single().Str("key"));
    }

    [Fact]
    public async Task A_node_whose_network_starts_late_registers_NotReady_with_the_not_ready_taint_and_takes_pods_once_Ready()
    {
        await using var cluster = await StartAsync(new SimulatorOptions { Nodes = 0, TimeFactor = 0.01 });
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("waiting", null));

        // 100 simulated seconds are one real second at this time factor.
        cluster.Cluster.AddNodes([new NodeSpec("late") { NetworkReadyAfter = TimeSpan.FromSeconds(100) }]);
        var registered = cluster.Get("", "nodes", "", "late")!;
        var ready = registered.Objects("status", "conditions").Single(c => c.Str("type") == "Ready");
        Assert.Equal(("False", "KubeletNotReady"), (ready.Str("status"), ready.Str("reason")));
        Assert.Contains("cni plugin not initialized", ready.Str("message"), StringComparison.Ordinal);
        Assert.Contains(registered.Objects("spec", "taints"), t => t.Str("key") == "node.kubernetes.io/not-ready" && t.Str("effect") == "NoSchedule");
        Assert.Null(cluster.Get("", "pods", "shop", "waiting")!.Str("spec", "nodeName"));

        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "waiting")), "the pod running once the node is Ready");
        var node = cluster.Get("", "nodes", "", "late")!;
        Assert.Equal("True", node.Objects("status", "conditions").Single(c => c.Str("type") == "Ready").Str("status"));
        Assert.Null(node.At("spec", "taints"));
    }

    [Fact]
    public async Task Pulls_on_one_node_are_serialised_and_take_size_over_bandwidth()
    {
        // 5 MB at 1 MB/s is 5 simulated seconds each; at a time factor of 0.04 that is 200 ms of real time.
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { TimeFactor = 0.04, NodeBandwidthBytesPerSecond = 1_000_000 });
        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/a:1", 5_000_000));
        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/b:1", 5_000_000));
        cluster.Cluster.AddNodes([new NodeSpec("only")]);
        await cluster.CreateNamespaceAsync("shop");
        var started = DateTime.UtcNow;
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("a", null, "registry.local/a:1"));
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("b", null, "registry.local/b:1"));
        await Eventually.WaitUntilAsync(() => cluster.Cluster.PullCount("only") == 2, "both pulls done");

        // Serialised pulls cannot finish in less than the sum of their durations.
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(400), "two 200 ms pulls on one node must not overlap");
        Assert.Contains("registry.local/a:1", cluster.Cluster.CachedImages("only"));
    }

    [Fact]
    public async Task Slow_registry_pulls_take_longer()
    {
        // 5 MB at 1 MB/s: 5 simulated seconds (50 ms real) normally; from the slow registry far longer than the test
        // waits, until it recovers (a pull under way follows the registry's current speed), so a stalled machine
        // cannot let the slow pull finish before the assertions.
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { TimeFactor = 0.01, NodeBandwidthBytesPerSecond = 1_000_000 });
        cluster.Cluster.Registry.Add(new RegistryImage("registry.slow/app:1", 5_000_000));
        cluster.Cluster.Registry.Add(new RegistryImage("registry.fast/app:1", 5_000_000));
        cluster.Cluster.Registry.SetSlow("registry.slow/", 100_000);
        cluster.Cluster.AddNodes([new NodeSpec("a") { Labels = new Dictionary<string, string> { ["n"] = "a" } }, new NodeSpec("b") { Labels = new Dictionary<string, string> { ["n"] = "b" } }]);
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("slow", JsonNode.Parse("""{"nodeSelector":{"n":"a"}}"""), "registry.slow/app:1"));
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("fast", JsonNode.Parse("""{"nodeSelector":{"n":"b"}}"""), "registry.fast/app:1"));

        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "fast")), "fast pod ready");
        Assert.Equal(0, cluster.Cluster.PullCount("a"));
        Assert.Equal("ContainerCreating", Waiting(cluster, "slow")?.Str("reason"));
        cluster.Cluster.Registry.SetSlow("registry.slow/", 1);
        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "slow")), "slow pod ready once the registry recovers");
    }

    [Fact]
    public async Task A_pull_under_way_speeds_up_when_the_registry_recovers()
    {
        // 5 MB at 1 MB/s, 100 000 times slower: about 5.8 simulated days (1.4 real hours) unless the transfer notices the recovery.
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { TimeFactor = 0.01, NodeBandwidthBytesPerSecond = 1_000_000 });
        cluster.Cluster.Registry.Add(new RegistryImage("registry.slow/app:1", 5_000_000));
        cluster.Cluster.Registry.SetSlow("registry.slow/", 100_000);
        cluster.Cluster.AddNodes([new NodeSpec("a")]);
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("slow", null, "registry.slow/app:1"));
        await Eventually.WaitUntilAsync(
            () => cluster.List("", "events", "shop").Any(e => e.Str("reason") == "Pulling" && e.Str("involvedObject", "name") == "slow"), "the pull to start");

        cluster.Cluster.Registry.SetSlow("registry.slow/", 1);

        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "slow")), "the pod to start once the registry is fast again");
        Assert.Equal(1, cluster.Cluster.PullCount("a"));
    }

    [Fact]
    public async Task Node_goes_NotReady_and_a_joining_node_takes_pending_pods()
    {
        await using var cluster = await StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01, NodeHeartbeat = TimeSpan.FromMilliseconds(100) });
        var lease = cluster.Get("coordination.k8s.io", "leases", "kube-node-lease", "node-0001")!;
        var firstRenew = lease.Str("spec", "renewTime");
        await Eventually.WaitUntilAsync(() => cluster.Get("coordination.k8s.io", "leases", "kube-node-lease", "node-0001")!.Str("spec", "renewTime") != firstRenew, "lease renewed");

        cluster.Cluster.SetNodeReady("node-0001", false);
        var node = cluster.Get("", "nodes", "", "node-0001")!;
        Assert.Equal("Unknown", node.Objects("status", "conditions").Single(c => c.Str("type") == "Ready").Str("status"));
        Assert.Contains(node.Objects("spec", "taints"), t => t.Str("key") == "node.kubernetes.io/unreachable" && t.Str("effect") == "NoSchedule");

        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("waiting", null));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "waiting")?.Objects("status", "conditions").Any(c => c.Str("reason") == "Unschedulable") == true, "no ready node");

        var joined = cluster.Cluster.AddNodes(1);
        Assert.Equal(["node-0002"], joined);
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "waiting")?.Str("spec", "nodeName") == "node-0002", "pod scheduled on the joining node");
        await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "waiting")), "pod running on the joining node");

        cluster.Cluster.SetNodeReady("node-0001", true);
        Assert.Equal("True", cluster.Get("", "nodes", "", "node-0001")!.Objects("status", "conditions").Single(c => c.Str("type") == "Ready").Str("status"));
    }

    [Fact]
    public async Task Scenario_file_sets_registry_faults_and_nodes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kwarm-scenario-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """
            {
              "nodeGroups": [ { "count": 2, "namePrefix": "arm", "architecture": "arm64", "labels": { "pool": "arm" } } ],
              "registry": { "allowUnknownImages": false, "images": [ { "reference": "registry.local/amd-only:1", "sizeBytes": 1000, "architectures": ["amd64"] },
                                                                      { "reference": "registry.local/multi:1", "sizeBytes": 1000 } ] },
              "faults": { "flaky": [ { "reference": "registry.local/multi:1", "failures": 1 } ] }
            }
            """, TestContext.Current.CancellationToken);
        try
        {
            await using var cluster = await StartAsync(new SimulatorOptions { TimeFactor = 0.01, ScenarioPath = path });
            Assert.Equal(["arm-0001", "arm-0002"], cluster.List("", "nodes").Select(n => n.Str("metadata", "name")));
            Assert.Equal("arm64", cluster.Get("", "nodes", "", "arm-0001")!.Str("metadata", "labels", "kubernetes.io/arch"));

            var wrongArch = RecordWaiting(cluster, "wrong-arch");
            var unknown = RecordWaiting(cluster, "unknown");
            await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("wrong-arch", null, "registry.local/amd-only:1"));
            await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("unknown", null, "registry.local/nowhere:1"));
            await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("flaky", null, "registry.local/multi:1"));
            await Eventually.WaitUntilAsync(() => wrongArch.Any(s => s.Message.Contains("no match for platform in manifest", StringComparison.Ordinal)), "platform mismatch");
            await Eventually.WaitUntilAsync(() => unknown.Any(s => s.Message.EndsWith("registry.local/nowhere:1: not found", StringComparison.Ordinal)), "unknown image");
            await Eventually.WaitUntilAsync(() => PodReady(cluster.Get("", "pods", "shop", "flaky")), "flaky image pulled on retry");
            Assert.Contains(cluster.List("", "events", "shop"), e => e.Str("involvedObject", "name") == "flaky" && e.Str("reason") == "Failed");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Scenario_files_can_be_yaml()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kwarm-scenario-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            nodeGroups:
            - count: 2
              namePrefix: gpu
              labels: {pool: gpu}
              taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
              bandwidthBytesPerSecond: 1048576
            registry:
              allowUnknownImages: false
              images:
              - {reference: "registry.local/app:1", sizeBytes: 1000, private: true, exitCode: 3}
            faults:
              slow: [{prefix: "registry.slow/", factor: 2.5}]
            """);
        try
        {
            var scenario = Scenario.Load(path);
            var nodes = scenario.Nodes().ToList();
            Assert.Equal(["gpu-0001", "gpu-0002"], nodes.Select(n => n.Name));
            Assert.Equal(1048576, nodes[0].BandwidthBytesPerSecond);
            Assert.Equal(("dedicated", "gpu", "NoSchedule"), nodes[0].Taints.Single());
            Assert.False(scenario.Registry.AllowUnknownImages);
            Assert.Equal(3, scenario.Registry.Images.Single().ExitCode);
            Assert.True(scenario.Registry.Images.Single().Private);
            Assert.Equal(2.5, scenario.Faults.Slow.Single().Factor);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Bad_scenario_file_is_a_clear_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kwarm-scenario-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "nodeGroups": [ { "count": "many" } ] }""");
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => Scenario.Load(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<(List<string> Names, long Size)> NodeImages(TestCluster cluster, string node = "node-0001") =>
        [.. cluster.Get("", "nodes", "", node)!.Objects("status", "images").Select(i => (i["names"]!.AsArray().Select(n => n!.GetValue<string>()).ToList(), i.Long("sizeBytes") ?? 0))];

    private static bool PodReady(JsonObject? pod) =>
        pod is not null && pod.Objects("status", "conditions").Any(c => c.Str("type") == "Ready" && c.Str("status") == "True");
}
