using k8s;
using k8s.Models;
using Kwarm.Pulling;
using Kwarm.Resources;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Tests.Pulling;

/// <summary>The pull engine end to end on the cluster simulator (its API server, Job controller, scheduler, kubelets).</summary>
[Collection(Kwarm.Tests.EndToEnd.OneSimulatedClusterAtATime.Name)]
public sealed class PullingEndToEndTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Images_without_a_shell_or_with_a_failing_entrypoint_pull_and_only_eligible_nodes_are_targeted()
    {
        await using var sim = await PullingOnSimulator.StartAsync(nodes: 3);
        sim.Cluster.Registry.Add(new RegistryImage("gcr.io/distroless/static:nonroot", 2_000_000));
        sim.Cluster.Registry.Add(new RegistryImage("registry.local/shop/crashes:1", 5_000_000, ExitCode: 1));
        sim.Cluster.AddNodes(
        [
            new NodeSpec("tainted") { Taints = [("dedicated", "gpu", "NoSchedule")] },
            new NodeSpec("cordoned") { Unschedulable = true },
            new NodeSpec("windows") { OperatingSystem = "windows" },
            new NodeSpec("notready"),
            new NodeSpec("warm") { PreloadedImages = ["registry.local/shop/crashes:1"] },
        ]);
        sim.Cluster.SetNodeReady("notready", false);
        await sim.StartKwarmAsync();

        await sim.CreateAsync(Image("distroless", new PrePullImageSpec { Image = "gcr.io/distroless/static:nonroot" }));
        await sim.CreateAsync(Image("crashes", new PrePullImageSpec { Image = "registry.local/shop/crashes:1" }));
        var finished = await sim.WaitFinishedAsync(Limit, "distroless", "crashes");

        var distroless = finished[0].Status!;
        Assert.Equal(PrePullImagePhase.Completed, distroless.Phase);
        Assert.Equal(["node-0001", "node-0002", "node-0003", "warm"], distroless.Nodes!.Select(node => node.Node));
        Assert.All(distroless.Nodes!, node => Assert.Equal(NodePullState.Completed, node.Status));
        var crashes = finished[1].Status!;
        Assert.Equal(PrePullImagePhase.Completed, crashes.Phase);
        Assert.Equal(
            [("node-0001", NodePullState.Completed), ("node-0002", NodePullState.Completed), ("node-0003", NodePullState.Completed), ("warm", NodePullState.Skipped)],
            crashes.Nodes!.Select(node => (node.Node, node.Status)));
        Assert.Contains("gcr.io/distroless/static:nonroot", string.Join(",", sim.Cluster.CachedImages("node-0001")), StringComparison.Ordinal);
        Assert.DoesNotContain(sim.JobsCreated, job => job.Node is "tainted" or "cordoned" or "windows" or "notready");
        await PullingOnSimulator.WaitUntilAsync(async () => (await sim.Client.BatchV1.ListNamespacedJobAsync(PullingOnSimulator.Namespace)).Items.Count == 0, Limit, () => "finished Jobs are deleted");
        Assert.Empty(sim.Cluster.ControllerErrors);
    }

    [Fact]
    public async Task A_PrePullImage_the_schema_would_refuse_only_with_CEL_fails_at_once_with_the_reason_and_no_job()
    {
        // Kubernetes 1.24 (and the simulator) do not run the CRD's CEL rules: a Gt requirement with two values gets
        // through. Kwarm must not pull for it, and must say why.
        await using var sim = await PullingOnSimulator.StartAsync(nodes: 2);
        sim.Cluster.Registry.Add(new RegistryImage("registry.local/shop/web:1", 2_000_000));
        await sim.StartKwarmAsync();

        await sim.CreateAsync(Image("gt-two-values", new PrePullImageSpec
        {
            Image = "registry.local/shop/web:1",
            Nodes = new NodeTargets
            {
                NodeAffinity = new V1NodeSelector
                {
                    NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = "cpu-count", OperatorProperty = "Gt", Values = ["4", "8"] }] }],
                },
            },
        }));
        var failed = (await sim.WaitFinishedAsync(Limit, "gt-two-values"))[0].Status!;

        Assert.Equal(PrePullImagePhase.Failed, failed.Phase);
        var ready = Assert.Single(failed.Conditions!);
        Assert.Equal(("False", PrePullImageReconciler.InvalidSpecReason), (ready.Status, ready.Reason));
        Assert.StartsWith("spec.nodes.nodeAffinity.nodeSelectorTerms[0].matchExpressions[0].values: Gt takes exactly one integer value", ready.Message, StringComparison.Ordinal);
        Assert.Empty(sim.JobsCreated);
    }

    [Fact]
    public async Task A_private_image_pulls_with_the_secret_and_without_it_fails_after_max_attempts_with_growing_delays()
    {
        // Two nodes, one per PrePullImage: a node that already holds the image would start it without credentials.
        await using var sim = await PullingOnSimulator.StartAsync(nodes: 2);
        sim.Cluster.Registry.Add(new RegistryImage("registry.local/private/app:1", 3_000_000, Private: true));
        await sim.CreatePullSecretAsync("registry-cred", "registry.local");
        await sim.StartKwarmAsync();

        await sim.CreateAsync(Image("with-secret", new PrePullImageSpec
        {
            Image = "registry.local/private/app:1",
            ImagePullSecrets = [new V1LocalObjectReference { Name = "registry-cred" }],
            Nodes = new NodeTargets { Names = ["node-0001"] },
        }));
        await sim.CreateAsync(Image("without-secret", new PrePullImageSpec
        {
            Image = "registry.local/private/app:1",
            Retry = new RetrySpec { MaxAttempts = 3, BackoffSeconds = 1 },
            Nodes = new NodeTargets { Names = ["node-0002"] },
        }));
        var finished = await sim.WaitFinishedAsync(Limit, "with-secret", "without-secret");

        Assert.Equal(PrePullImagePhase.Completed, finished[0].Status!.Phase);
        var failed = finished[1].Status!;
        Assert.Equal(PrePullImagePhase.Failed, failed.Phase);
        var node = Assert.Single(failed.Nodes!);
        Assert.Equal(NodePullState.Failed, node.Status);
        Assert.Contains("401 Unauthorized", node.Error, StringComparison.Ordinal);
        Assert.Equal(3, node.RetryCount);

        var attempts = sim.JobsCreated.Where(job => job.Image == "without-secret").OrderBy(job => job.At).ToList();
        Assert.Equal([1, 2, 3], attempts.Select(job => job.Attempt));
        var first = attempts[1].At - attempts[0].At;
        var second = attempts[2].At - attempts[1].At;
        Assert.True(first >= TimeSpan.FromSeconds(1), $"first delay {first}");
        // The backoff grows: the second delay is at least the 2 s the first one does not need to be. Comparing the two
        // measured gaps would compare the machine's load, not the backoff.
        Assert.True(second >= TimeSpan.FromSeconds(2), $"second delay {second}");
    }

    [Fact]
    public async Task An_attempt_over_its_timeout_fails_and_a_node_joining_mid_pull_gets_the_image()
    {
        await using var sim = await PullingOnSimulator.StartAsync(nodes: 2, timeFactor: 0.05);
        // 10 GB at 100 MiB/s is ~100 s, scaled to ~5 s: longer than the 2 s timeout.
        sim.Cluster.Registry.Add(new RegistryImage("registry.local/huge:1", 10_000_000_000));
        // 1 GB: ~10 s scaled to ~0.5 s per node.
        sim.Cluster.Registry.Add(new RegistryImage("registry.local/web:1", 1_000_000_000));
        await sim.StartKwarmAsync();

        await sim.CreateAsync(Image("huge", new PrePullImageSpec { Image = "registry.local/huge:1", Timeout = "2s", Retry = new RetrySpec { MaxAttempts = 1 } }));
        await sim.CreateAsync(Image("web", new PrePullImageSpec { Image = "registry.local/web:1", Nodes = new NodeTargets { Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" } } } }));
        await PullingOnSimulator.WaitUntilAsync(async () => (await sim.GetAsync("web")).Status?.Phase == PrePullImagePhase.InProgress, Limit, () => "web starts");
        sim.Cluster.AddNodes(1);

        var finished = await sim.WaitFinishedAsync(Limit, "huge", "web");

        var huge = finished[0].Status!;
        Assert.Equal(PrePullImagePhase.Failed, huge.Phase);
        Assert.All(huge.Nodes!, node => Assert.Contains("timeout of 2s", node.Error, StringComparison.Ordinal));
        var web = finished[1].Status!;
        Assert.Equal(["node-0001", "node-0002", "node-0003"], web.Nodes!.Select(node => node.Node));
        Assert.All(web.Nodes!, node => Assert.Equal(NodePullState.Completed, node.Status));
    }

    [Fact]
    public async Task Caps_hold_across_200_nodes_and_3_images_through_a_restart_of_the_controller()
    {
        await using var sim = await PullingOnSimulator.StartAsync(nodes: 200);
        string[] names = ["first", "second", "third"];
        foreach (var name in names)
        {
            sim.Cluster.Registry.Add(new RegistryImage($"registry.local/{name}:1", 20_000_000));
        }

        await sim.StartKwarmAsync(maxConcurrentPulls: 10, maxPullsPerNode: 2);
        foreach (var name in names)
        {
            await sim.CreateAsync(Image(name, new PrePullImageSpec { Image = $"registry.local/{name}:1" }));
        }

        await PullingOnSimulator.WaitUntilAsync(() => Task.FromResult(sim.JobsCreated.Count >= 150), Limit, () => $"a quarter of the pulls started: {sim.JobsCreated.Count} Jobs, {sim.Cluster.RequestCount} requests, errors: {string.Join(" | ", sim.Cluster.ControllerErrors.Take(3))}");
        await sim.StopKwarmAsync();
        await sim.StartKwarmAsync(maxConcurrentPulls: 10, maxPullsPerNode: 2);
        var finished = await sim.WaitFinishedAsync(TimeSpan.FromSeconds(150), names);

        // A pull that finished while no controller ran (its Job already cleaned up, its outcome not yet written) is found
        // warm in the node's status.images by the next leader and counted as skipped: warm either way, never pulled twice.
        Assert.All(finished, image =>
        {
            var summary = image.Status!.Summary!;
            Assert.Equal(new PullSummary { Total = 200, Completed = summary.Completed, Skipped = summary.Skipped }, summary);
            Assert.Equal(200, summary.Completed + summary.Skipped);
        });
        var skipped = finished.Sum(image => image.Status!.Summary!.Skipped);
        Assert.InRange(skipped, 0, 10);
        Assert.InRange(sim.MaxActivePods, 2, 10);
        Assert.InRange(sim.MaxActivePodsPerNode, 1, 2);
        // Every (image, node) was pulled by exactly one Job, the skipped ones included: their Job finished unrecorded.
        Assert.Equal(600, sim.JobsCreated.Select(job => (job.Image, job.Node)).Distinct().Count());
        Assert.True(600 == sim.JobsCreated.Count, $"{sim.JobsCreated.Count} Jobs for 600 pulls; errors seen: {string.Join(" | ", sim.Errors.Keys)}");
        Assert.Empty(sim.Cluster.ControllerErrors);
    }

    [Fact]
    public async Task Deleting_a_prepullimage_mid_pull_removes_its_jobs_and_pods()
    {
        await using var sim = await PullingOnSimulator.StartAsync(nodes: 3, timeFactor: 1);
        // ~100 s per node at full speed: the pulls are surely running when the PrePullImage goes.
        sim.Cluster.Registry.Add(new RegistryImage("registry.local/big:1", 10_000_000_000));
        await sim.StartKwarmAsync();
        await sim.CreateAsync(Image("big", new PrePullImageSpec { Image = "registry.local/big:1" }));
        await PullingOnSimulator.WaitUntilAsync(
            async () => (await sim.GetAsync("big")).Status?.Summary?.Pulling == 3, Limit, () => "three pulls running");

        await sim.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(
            PrePullImage.KubeGroup, PrePullImage.KubeVersion, PullingOnSimulator.Namespace, PrePullImage.KubePluralName, "big",
            cancellationToken: TestContext.Current.CancellationToken);

        await PullingOnSimulator.WaitUntilAsync(
            async () => (await sim.Client.BatchV1.ListNamespacedJobAsync(PullingOnSimulator.Namespace)).Items.Count == 0
                && (await sim.Client.CoreV1.ListNamespacedPodAsync(PullingOnSimulator.Namespace)).Items.Count == 0,
            Limit,
            () => "pull Jobs and pods are gone");
    }

    private static PrePullImage Image(string name, PrePullImageSpec spec) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = PullingOnSimulator.Namespace },
        Spec = spec,
    };
}
