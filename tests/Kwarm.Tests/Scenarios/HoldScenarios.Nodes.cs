using k8s;
using k8s.Models;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Tests.Scenarios;

/// <summary>Which nodes a hold warms: the nodes the pods can run on, as the runtime names their images.</summary>
public abstract partial class HoldScenarios
{
    private const string Nginx = "docker.io/library/nginx:1.27.1";

    private static readonly Dictionary<string, string> WarmPool = new(StringComparer.Ordinal) { ["pool"] = "warm" };

    private async Task<IReadOnlyList<V1Pod>> PodsAsync() =>
        (await Cluster.Client.CoreV1.ListNamespacedPodAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items.ToList();

    /// <summary>What is left in the workload namespace, for a failure's message (run once, after the wait failed).</summary>
    private string LeftoversOfShop()
    {
        var token = TestContext.Current.CancellationToken;
        var images = PrePullImagesAsync().GetAwaiter().GetResult()
            .Select(image => $"prepullimage {image.Metadata.Name} phase {image.Status?.Phase} deleting {image.Metadata.DeletionTimestamp is not null}");
        var jobs = Cluster.Client.BatchV1.ListNamespacedJobAsync(Shop, cancellationToken: token).GetAwaiter().GetResult().Items
            .Select(job => $"job {job.Metadata.Name} active {job.Status?.Active} deleting {job.Metadata.DeletionTimestamp is not null} finalizers [{string.Join(",", job.Metadata.Finalizers ?? [])}]");
        var pods = PodsAsync().GetAwaiter().GetResult()
            .Select(pod => $"pod {pod.Metadata.Name} on '{pod.Spec.NodeName}' {pod.Status?.Phase} deleting {pod.Metadata.DeletionTimestamp is not null} finalizers [{string.Join(",", pod.Metadata.Finalizers ?? [])}]");
        return string.Join('\n', images.Concat(jobs).Concat(pods));
    }

    /// <summary>The pods not being deleted: <c>rollout status</c> returns while the old ones still terminate.</summary>
    private async Task<IReadOnlyList<V1Pod>> LivePodsAsync() => [.. (await PodsAsync()).Where(pod => pod.Metadata.DeletionTimestamp is null)];

    /// <summary>Every Event of the job controller in the workload namespace: a pull Job leaves them even once it is deleted.</summary>
    private async Task<IReadOnlyList<Corev1Event>> JobEventsAsync() =>
        [.. (await Cluster.Client.CoreV1.ListNamespacedEventAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items
            .Where(e => e.InvolvedObject?.Kind == "Job")];

    /// <summary>
    /// Issue 14: nodes whose runtime lists <c>docker.io/library/nginx:1.27.1</c> (containerd's name) are warm for a
    /// Deployment that says <c>nginx:1.27.1</c>: the hold is released at once with no pull Job, and renaming the
    /// image to its fully qualified form is no image change at all.
    /// </summary>
    [Fact]
    public async Task Nginx_over_nodes_that_cache_its_containerd_name_is_released_warm_without_a_pull_job()
    {
        await Cluster.AddNodesAsync(
        [
            new NodeSpec("warm-1") { Labels = WarmPool, PreloadedImages = [Nginx] },
            new NodeSpec("warm-2") { Labels = WarmPool, PreloadedImages = [Nginx] },
        ]);
        await StartWithAsync(WebDeployment(Image1, podSpec: "nodeSelector:\n  pool: warm"));
        var pullsBefore = Cluster.PullCount("warm-1") + Cluster.PullCount("warm-2");

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=nginx:1.27.1");

        var released = await WaitForReleaseAsync([Nginx]);
        Assert.Equal("Warm", (await ReleasedEventAsync()).Action);
        var image = Assert.Single(await PrePullImagesAsync());
        Assert.Equal(PrePullImagePhase.Completed, image.Status!.Phase);
        Assert.Equal(["warm-1", "warm-2"], image.Status.Nodes!.Select(node => node.Node).Order(StringComparer.Ordinal));
        Assert.All(image.Status.Nodes!, node => Assert.Equal(NodePullState.Skipped, node.Status));
        Assert.Empty(await JobEventsAsync());
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=60s");
        Assert.All(await LivePodsAsync(), pod => Assert.Equal(Nginx, pod.Status.ContainerStatuses.Single().Image));
        Assert.Equal(pullsBefore, Cluster.PullCount("warm-1") + Cluster.PullCount("warm-2"));

        // The same image under its fully qualified name is the same image set: nothing to hold.
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Nginx);
        var renamed = await WebAsync();
        Assert.NotEqual(true, renamed.Spec.Paused);
        Assert.False(renamed.Metadata.Annotations.ContainsKey(KwarmApi.HoldAnnotation));
        Assert.Equal(released.Metadata.Annotations[KwarmApi.ReleasedAnnotation], renamed.Metadata.Annotations[KwarmApi.ReleasedAnnotation]);
        Assert.Single(await KwarmEventsAsync("HoldStarted"));
        Assert.Empty(await JobEventsAsync());
    }

    /// <summary>
    /// A Deployment pinned to a node pool by its node selector, kept off one node by required node affinity, and
    /// tolerating the pool's taint: exactly the nodes its pods can run on are warmed, and no other node pulls.
    /// </summary>
    [Fact]
    public async Task A_hold_warms_exactly_the_nodes_the_selector_affinity_and_tolerations_allow()
    {
        var gpu = new Dictionary<string, string>(StringComparer.Ordinal) { ["pool"] = "gpu" };
        await Cluster.AddNodesAsync(
        [
            new NodeSpec("gpu-open") { Labels = gpu },
            new NodeSpec("gpu-tainted") { Labels = gpu, Taints = [("dedicated", "gpu", "NoSchedule")] },
            new NodeSpec("gpu-excluded") { Labels = gpu },
            new NodeSpec("gpu-other-taint") { Labels = gpu, Taints = [("dedicated", "batch", "NoSchedule")] },
        ]);
        const string PodSpec = """
            nodeSelector:
              pool: gpu
            affinity:
              nodeAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                  nodeSelectorTerms:
                    - matchExpressions:
                        - key: kubernetes.io/hostname
                          operator: NotIn
                          values: ["gpu-excluded"]
            tolerations:
              - key: dedicated
                operator: Equal
                value: gpu
                effect: NoSchedule
            """;
        await StartWithAsync(WebDeployment(Image1, podSpec: PodSpec));

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);

        await WaitForReleaseAsync([Image2], seconds: 60);
        Assert.Equal("Warm", (await ReleasedEventAsync()).Action);
        var image = Assert.Single(await PrePullImagesAsync());
        Assert.Equal(["gpu-open", "gpu-tainted"], image.Status!.Nodes!.Select(node => node.Node).Order(StringComparer.Ordinal));
        Assert.All(image.Status.Nodes!, node => Assert.Equal(NodePullState.Completed, node.Status));
        foreach (var node in new[] { "node-0001", "node-0002", "node-0003", "gpu-excluded", "gpu-other-taint" })
        {
            Assert.DoesNotContain(Cluster.CachedImages(node), cached => cached.Contains("shop/web:2", StringComparison.Ordinal));
        }

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=60s");
        Assert.All(await LivePodsAsync(), pod => Assert.Contains(pod.Spec.NodeName, (string[])["gpu-open", "gpu-tainted"]));
    }

    /// <summary>A node that joins while a hold pulls is one of the nodes the pods can run on: it is warmed before the release.</summary>
    [Fact]
    public async Task A_node_joining_mid_hold_is_warmed_before_the_release()
    {
        // About 10 s per node: the pulls are still running when the node joins.
        Cluster.Registry.SetSlow(Image2, 2_000);
        await StartAsync();
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);
        await Eventually.WaitUntilAsync(async () => (await PrePullImagesAsync()).Any(p => p.Status?.Summary?.Pulling > 0), "the pulls to start");

        await Cluster.AddNodesAsync([new NodeSpec("late")]);

        await WaitForReleaseAsync([Image2], seconds: 90);
        Assert.Equal("Warm", (await ReleasedEventAsync()).Action);
        var image = Assert.Single(await PrePullImagesAsync());
        Assert.Equal(["late", "node-0001", "node-0002", "node-0003"], image.Status!.Nodes!.Select(node => node.Node).Order(StringComparer.Ordinal));
        Assert.All(image.Status.Nodes!, node => Assert.Equal(NodePullState.Completed, node.Status));
        Assert.Contains(Cluster.CachedImages("late"), cached => cached.EndsWith("shop/web:2", StringComparison.Ordinal));
    }

    /// <summary>
    /// A private image: pulled with the Deployment's own imagePullSecrets (Kwarm never reads the secret), and without
    /// them the registry's 401 ends the hold as <c>PullFailed</c> with the kubelet's message.
    /// </summary>
    [Fact]
    public async Task A_private_image_is_pulled_with_the_pods_pull_secret_and_without_it_fails_with_the_registrys_answer()
    {
        Cluster.Registry.Add(new RegistryImage(Image2, 30_000_000, Private: true));
        Cluster.Registry.Add(new RegistryImage(Image3, 30_000_000, Private: true));
        await StartWithAsync(WebDeployment(Image1, podSpec: "imagePullSecrets:\n  - name: registry-cred"));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "create", "secret", "docker-registry", "registry-cred",
            "--docker-server=registry.local", "--docker-username=ci", "--docker-password=secret");

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForReleaseAsync([Image2], seconds: 60);
        Assert.Equal("Warm", (await ReleasedEventAsync()).Action);
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=60s");

        // The secret goes from the pod template, and the next private image cannot be pulled.
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "patch", "deployment/web", "--type=json", "-p",
            """[{"op":"remove","path":"/spec/template/spec/imagePullSecrets"},{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.local/shop/web:3"}]""");
        await WaitForReleaseAsync([Image3], seconds: 60);
        await Eventually.WaitUntilAsync(async () => (await KwarmEventsAsync("HoldReleased")).Count == 2, "the second HoldReleased");
        Assert.Contains(await KwarmEventsAsync("HoldReleased"), e => e.Action == "PullFailed");
        var failure = Assert.Single(await KwarmEventsAsync("PullFailed"));
        Assert.Contains("401 Unauthorized", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>A held Deployment deleted mid-pull takes its PrePullImages, pull Jobs and pods with it (owner references).</summary>
    [Fact]
    public async Task Deleting_a_held_Deployment_mid_pull_removes_its_PrePullImages_jobs_and_pods()
    {
        Cluster.Registry.SetSlow(Image2, 20_000);
        await StartAsync();
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);
        await Eventually.WaitUntilAsync(async () => (await PrePullImagesAsync()).Any(p => p.Status?.Summary?.Pulling > 0), "the pulls to start");

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "delete", "deployment", "web", "--wait=false");

        await Eventually.WaitUntilAsync(
            async () => (await PrePullImagesAsync()).Count == 0
                && (await Cluster.Client.BatchV1.ListNamespacedJobAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items.Count == 0
                && (await PodsAsync()).Count == 0,
            "the hold's PrePullImages, the pull Jobs and every pod to be gone",
            TimeSpan.FromSeconds(60),
            LeftoversOfShop);
        await Eventually.WaitUntilAsync(async () => await PolicyStatusAsync() is { ActiveHolds: 0, WatchedDeployments: 0 }, "the policy status to forget web");
    }
}
