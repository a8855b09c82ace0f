using k8s;
using k8s.Models;
using Kwarm.Resources;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Tests.Scenarios;

/// <summary>
/// Issue #17: nodes join with the warming taint; Kwarm puts the images their pods will need on them, then lifts only
/// that taint. Names carry a per-test id: on the real control plane, nodes of earlier tests are still registered.
/// </summary>
public abstract partial class HoldScenarios
{
    private static readonly (string Key, string? Value, string Effect) Warming = (KwarmApi.WarmingTaintKey, KwarmApi.WarmingTaintValue, KwarmApi.WarmingTaintEffect);

    private static string WarmupPolicy(string maxDuration) => $"""
        apiVersion: kwarm.io/v1alpha1
        kind: PrePullPolicy
        metadata:
          name: default
        spec:
          selector:
            matchLabels:
              kwarm.io/enabled: "true"
          retry:
            maxAttempts: 1
          nodeWarmup:
            enabled: true
            maxDuration: {maxDuration}
        """;

    [Fact]
    public async Task Nodes_that_join_warming_get_the_image_first_and_the_pods_that_land_there_after_the_lift_pull_nothing()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        var pool = new Dictionary<string, string>(StringComparer.Ordinal) { ["pool"] = "web-" + id };
        // Five nodes of two pods each: ten replicas fill them, so the next ten can only go to the joining nodes.
        await Cluster.AddNodesAsync([.. Enumerable.Range(1, 5).Select(i => new NodeSpec($"base-{id}-{i}") { Labels = pool, MaxPods = 2 })]);
        await ApplyAsync(WarmupPolicy("10m"));
        await Cluster.StartKwarmAsync();
        await ApplyAsync(WebDeployment(Image1, replicas: 10, podSpec: $"nodeSelector:\n  pool: web-{id}"));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=60s");
        // The warm-up pull takes a while (about 5 s here), long enough for the scale-up to wait on it.
        Cluster.Registry.SetSlow(Image1, 1_000);

        var joining = Enumerable.Range(1, 3).Select(i => $"new-{id}-{i}").ToList();
        // Like real nodes, they report NotReady for a while (two real seconds here) and carry the not-ready taint:
        // nothing can be pulled there until they are Ready.
        await Cluster.AddNodesAsync([.. joining.Select(name => new NodeSpec(name) { Labels = pool, Taints = [Warming], NetworkReadyAfter = TimeSpan.FromSeconds(200) })]);
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "scale", "deployment/web", "--replicas=20");

        await Eventually.WaitUntilAsync(
            async () => (await WarmupPrePullImagesAsync()).Count == joining.Count, "a warm-up PrePullImage per joining node", diagnostics: () => WarmupSnapshot(joining));
        Assert.All(await WarmupPrePullImagesAsync(), image => Assert.Equal(Image1, image.Spec.Image));
        Assert.All(await JoiningNodesAsync(joining), node => Assert.True(HasWarmingTaint(node) && !Lists(node, Image1), $"{node.Metadata.Name} is not warming"));
        Assert.DoesNotContain(await LivePodsAsync(), pod => joining.Contains(pod.Spec.NodeName) && pod.Metadata.Name.StartsWith("web-", StringComparison.Ordinal));

        Cluster.Registry.SetSlow(Image1, 1);
        await Eventually.WaitUntilAsync(
            async () => (await JoiningNodesAsync(joining)).All(node => !HasWarmingTaint(node)), "the warming taints to be lifted", TimeSpan.FromSeconds(90), () => WarmupSnapshot(joining));
        // Counted from here: the pull pods' own tools image and the warm-up's pull of web's image are behind.
        var pullsAtLift = joining.ToDictionary(node => node, Cluster.PullCount);
        Assert.All(await JoiningNodesAsync(joining), node => Assert.True(Lists(node, Image1), $"{node.Metadata.Name} was lifted without {Image1}"));

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=90s");
        var onJoining = (await LivePodsAsync()).Where(pod => joining.Contains(pod.Spec.NodeName)).ToList();
        Assert.Equal(10, onJoining.Count);
        Assert.Equal(pullsAtLift, joining.ToDictionary(node => node, Cluster.PullCount));
        foreach (var node in joining)
        {
            var events = await NodeEventsAsync(node);
            Assert.Contains(events, e => e.Reason == "NodeWarmupStarted");
            Assert.Contains(events, e => e.Reason == "NodeWarm" && e.Type == "Normal" && e.Message.Contains(Image1, StringComparison.Ordinal));
        }

        // Once their nodes are warm, the warm-up's PrePullImages are gone.
        await Eventually.WaitUntilAsync(async () => (await WarmupPrePullImagesAsync()).Count == 0, "the warm-up PrePullImages to be deleted");
    }

    [Fact]
    public async Task A_node_whose_image_never_comes_is_lifted_at_maxDuration_with_a_timeout_event()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        await ApplyAsync(WarmupPolicy("20s"));
        await Cluster.StartKwarmAsync();
        await ApplyAsync(WebDeployment(Image1, replicas: 1));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=60s");
        Cluster.Registry.SetSlow(Image1, 10_000_000);
        var name = $"stuck-{id}";

        await Cluster.AddNodesAsync([new NodeSpec(name) { Taints = [Warming] }]);

        await Eventually.WaitUntilAsync(async () => await WarmupPrePullImagesAsync() is { Count: > 0 }, "the warm-up PrePullImage", diagnostics: () => WarmupSnapshot([name]));
        Assert.True(HasWarmingTaint(Assert.Single(await JoiningNodesAsync([name]))), "lifted before maxDuration");
        await Eventually.WaitUntilAsync(
            async () => !HasWarmingTaint(Assert.Single(await JoiningNodesAsync([name]))), "the taint to be lifted at maxDuration", TimeSpan.FromSeconds(90), () => WarmupSnapshot([name]));
        var node = Assert.Single(await JoiningNodesAsync([name]));
        await Eventually.WaitUntilAsync(async () => (await NodeEventsAsync(name)).Any(e => e.Reason == "NodeWarmupTimeout"), "the NodeWarmupTimeout event");
        var timeout = (await NodeEventsAsync(name)).Single(e => e.Reason == "NodeWarmupTimeout");
        Assert.Equal("Warning", timeout.Type);
        // Event and creation times have whole seconds.
        Assert.True(timeout.FirstTimestamp >= node.Metadata.CreationTimestamp!.Value.AddSeconds(19), $"lifted at {timeout.FirstTimestamp:O}, node created {node.Metadata.CreationTimestamp:O}");
        Assert.False(Lists(node, Image1), "the image came after all: the test proves nothing");
    }

    /// <summary>
    /// What the warm-up looked like from outside, for a failure's message: the joining nodes, the warm-up
    /// PrePullImages' per-node status, the pods bound to or waiting for those nodes, and Kwarm's Node events.
    /// </summary>
    private string WarmupSnapshot(IReadOnlyList<string> joining)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var lines = new List<string> { "-- nodes --" };
        // Diagnostics run once, after the wait has already failed: blocking here costs nothing.
        var nodes = JoiningNodesAsync(joining).GetAwaiter().GetResult();
        lines.AddRange(nodes.Select(node =>
            $"{node.Metadata.Name}: taints [{string.Join(", ", (node.Spec?.Taints ?? []).Select(t => $"{t.Key}:{t.Effect}"))}], lists {Image1}: {Lists(node, Image1)}"));
        lines.Add("-- warm-up PrePullImages --");
        lines.AddRange(WarmupPrePullImagesAsync().GetAwaiter().GetResult().Select(image =>
            $"{image.Metadata.Name}: nodes [{string.Join(", ", image.Spec.Nodes?.Names ?? [])}], phase {image.Status?.Phase}, " +
            $"status [{string.Join(", ", (image.Status?.Nodes ?? []).Select(n => $"{n.Node}={n.Status} {n.JobName} {n.Error}"))}]"));
        lines.Add("-- pods not in the workload's namespace, or on joining nodes --");
        var pods = Cluster.Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: cancellation).GetAwaiter().GetResult().Items;
        lines.AddRange(pods
            .Where(pod => pod.Metadata.NamespaceProperty != Shop || joining.Contains(pod.Spec.NodeName))
            .Select(pod => $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} on '{pod.Spec.NodeName}' {pod.Status?.Phase}: " +
                string.Join("; ", (pod.Status?.Conditions ?? []).Where(c => c.Status != "True").Select(c => $"{c.Type} {c.Reason} {c.Message}"))));
        lines.Add("-- kwarm's node events --");
        foreach (var node in joining)
        {
            lines.AddRange(NodeEventsAsync(node).GetAwaiter().GetResult().Select(e => $"{node}: {e.Reason} {e.Message}"));
        }

        return string.Join('\n', lines);
    }

    private static bool HasWarmingTaint(V1Node node) =>
        (node.Spec?.Taints ?? []).Any(taint => taint.Key == KwarmApi.WarmingTaintKey && taint.Effect == KwarmApi.WarmingTaintEffect);

    /// <summary>Whether the node's runtime lists the image (as the kubelet reports it, fully qualified).</summary>
    private static bool Lists(V1Node node, string image) =>
        (node.Status?.Images ?? []).Any(listed => listed.Names?.Any(name => ImageIdentity.CanonicalOrSelf(name) == ImageIdentity.CanonicalOrSelf(image)) == true);

    private async Task<IReadOnlyList<V1Node>> JoiningNodesAsync(IReadOnlyList<string> names) =>
        [.. (await Cluster.Client.CoreV1.ListNodeAsync(cancellationToken: TestContext.Current.CancellationToken)).Items.Where(node => names.Contains(node.Metadata.Name))];

    private async Task<IReadOnlyList<PrePullImage>> WarmupPrePullImagesAsync() =>
        [.. (await PrePullImagesAsync()).Where(image => image.Metadata.Labels?.ContainsKey(KwarmApi.WarmupLabel) == true)];

    private async Task<IReadOnlyList<Corev1Event>> NodeEventsAsync(string node) =>
        [.. (await Cluster.Client.CoreV1.ListNamespacedEventAsync("default", cancellationToken: TestContext.Current.CancellationToken)).Items
            .Where(e => e.InvolvedObject?.Kind == "Node" && e.InvolvedObject.Name == node && e.Source?.Component == "kwarm")];
}
