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
        // Two nodes of five pods each: ten replicas fill them, so the next ten can only go to the joining nodes.
        await Cluster.AddNodesAsync([new NodeSpec($"base-{id}-1") { Labels = pool, MaxPods = 5 }, new NodeSpec($"base-{id}-2") { Labels = pool, MaxPods = 5 }]);
        await ApplyAsync(WarmupPolicy("10m"));
        await Cluster.StartKwarmAsync();
        await ApplyAsync(WebDeployment(Image1, replicas: 10, podSpec: $"nodeSelector:\n  pool: web-{id}"));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=60s");
        // The warm-up pull takes a while (about 5 s here), long enough for the scale-up to wait on it.
        Cluster.Registry.SetSlow(Image1, 1_000);

        var joining = Enumerable.Range(1, 3).Select(i => $"new-{id}-{i}").ToList();
        await Cluster.AddNodesAsync([.. joining.Select(name => new NodeSpec(name) { Labels = pool, Taints = [Warming] })]);
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "scale", "deployment/web", "--replicas=20");

        await Eventually.WaitUntilAsync(
            async () => (await WarmupPrePullImagesAsync()).Count == joining.Count, "a warm-up PrePullImage per joining node", diagnostics: KwarmLog);
        Assert.All(await WarmupPrePullImagesAsync(), image => Assert.Equal(Image1, image.Spec.Image));
        Assert.All(await JoiningNodesAsync(joining), node => Assert.True(HasWarmingTaint(node) && !Lists(node, Image1), $"{node.Metadata.Name} is not warming"));
        Assert.DoesNotContain(await LivePodsAsync(), pod => joining.Contains(pod.Spec.NodeName) && pod.Metadata.Name.StartsWith("web-", StringComparison.Ordinal));

        Cluster.Registry.SetSlow(Image1, 1);
        await Eventually.WaitUntilAsync(
            async () => (await JoiningNodesAsync(joining)).All(node => !HasWarmingTaint(node)), "the warming taints to be lifted", TimeSpan.FromSeconds(90), KwarmLog);
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

        await Eventually.WaitUntilAsync(async () => await WarmupPrePullImagesAsync() is { Count: > 0 }, "the warm-up PrePullImage", diagnostics: KwarmLog);
        Assert.True(HasWarmingTaint(Assert.Single(await JoiningNodesAsync([name]))), "lifted before maxDuration");
        await Eventually.WaitUntilAsync(
            async () => !HasWarmingTaint(Assert.Single(await JoiningNodesAsync([name]))), "the taint to be lifted at maxDuration", TimeSpan.FromSeconds(90));
        var node = Assert.Single(await JoiningNodesAsync([name]));
        await Eventually.WaitUntilAsync(async () => (await NodeEventsAsync(name)).Any(e => e.Reason == "NodeWarmupTimeout"), "the NodeWarmupTimeout event");
        var timeout = (await NodeEventsAsync(name)).Single(e => e.Reason == "NodeWarmupTimeout");
        Assert.Equal("Warning", timeout.Type);
        // Event and creation times have whole seconds.
        Assert.True(timeout.FirstTimestamp >= node.Metadata.CreationTimestamp!.Value.AddSeconds(19), $"lifted at {timeout.FirstTimestamp:O}, node created {node.Metadata.CreationTimestamp:O}");
        Assert.False(Lists(node, Image1), "the image came after all: the test proves nothing");
    }

    /// <summary>The last lines of the first replica's log, for a failure's message.</summary>
    private string KwarmLog() => string.Join('\n', (Cluster.Replicas[0].StandardOutput + Cluster.Replicas[0].StandardError).Split('\n').TakeLast(40));

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
