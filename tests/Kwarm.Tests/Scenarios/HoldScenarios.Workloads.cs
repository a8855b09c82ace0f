using k8s;
using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Scenarios;

/// <summary>
/// Issue 16: DaemonSets and StatefulSets are held too. A DaemonSet is held as <c>OnDelete</c> and a StatefulSet behind
/// a partition of 2147483647; the release restores the user's exact strategy or partition, and the rollout that follows
/// replaces the pods over warm nodes without a single pull.
/// </summary>
public abstract partial class HoldScenarios
{
    private const string MaxPartition = "2147483647";

    private static string RestrictedNamespace => $"""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {Shop}
          labels:
            pod-security.kubernetes.io/enforce: restricted
        """;

    private static string RestrictedTemplate(string image) => $"""
            metadata:
              labels:
                app: web
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
                seccompProfile:
                  type: RuntimeDefault
              containers:
                - name: web
                  image: {image}
                  securityContext:
                    allowPrivilegeEscalation: false
                    capabilities:
                      drop: ["ALL"]
        """;

    /// <summary>A labelled DaemonSet whose user strategy lets two nodes go at once (so the restored value is visibly the user's).</summary>
    private static string WebDaemonSet(string image) => $"""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: web
          namespace: {Shop}
          labels:
            kwarm.io/enabled: "true"
        spec:
          selector:
            matchLabels:
              app: web
          updateStrategy:
            type: RollingUpdate
            rollingUpdate:
              maxUnavailable: 2
          template:
        {RestrictedTemplate(image)}
        """;

    /// <summary>A labelled StatefulSet of three pods whose user partition keeps ordinal 0 on the old revision.</summary>
    private static string WebStatefulSet(string image) => $"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: web
          namespace: {Shop}
          labels:
            kwarm.io/enabled: "true"
        spec:
          replicas: 3
          serviceName: web
          podManagementPolicy: Parallel
          selector:
            matchLabels:
              app: web
          updateStrategy:
            type: RollingUpdate
            rollingUpdate:
              partition: 1
          template:
        {RestrictedTemplate(image)}
        """;

    private Task<V1DaemonSet> WebDaemonSetAsync() =>
        Cluster.Client.AppsV1.ReadNamespacedDaemonSetAsync("web", Shop, cancellationToken: TestContext.Current.CancellationToken);

    private Task<V1StatefulSet> WebStatefulSetAsync() =>
        Cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync("web", Shop, cancellationToken: TestContext.Current.CancellationToken);

    private static string? Annotation(V1ObjectMeta metadata, string key) =>
        metadata.Annotations?.TryGetValue(key, out var value) == true ? value : null;

    /// <summary>The workload's own live pods (not Kwarm's pull pods).</summary>
    private async Task<IReadOnlyList<V1Pod>> WebPodsAsync() =>
        [.. (await LivePodsAsync()).Where(pod => pod.Metadata.Labels?.TryGetValue("app", out var app) == true && app == "web")];

    private async Task<IReadOnlyDictionary<string, string>> PodImagesByUidAsync() =>
        (await WebPodsAsync())
            .ToDictionary(pod => pod.Metadata.Uid, pod => pod.Spec.Containers[0].Image);

    /// <summary>Waits until some node of the hold's PrePullImage has pulled: the hold has lasted at least one real pull.</summary>
    private async Task WaitForFirstPulledNodeAsync() =>
        await Eventually.WaitUntilAsync(
            async () => (await PrePullImagesAsync()).Any(image => image.Status?.Summary?.Completed > 0),
            "a node of the hold to finish its pull");

    [Fact]
    public async Task A_DaemonSet_is_held_as_OnDelete_warmed_on_every_node_and_released_to_the_users_strategy_without_a_pull_by_a_new_pod()
    {
        // One pull at a time in the cluster, each a few seconds long: once the first node is warm the hold still has two
        // to go (seconds, even on a stalled machine), and the pods are checked while it holds.
        Cluster.Registry.SetSlow(Image2, 600);
        await ApplyAsync(Policy("10m", "Release"));
        await Cluster.StartKwarmAsync("--max-concurrent-pulls", "1");
        await ApplyAsync(RestrictedNamespace + "\n---\n" + WebDaemonSet(Image1));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "daemonset/web", "--timeout=60s");
        var userStrategy = (await WebDaemonSetAsync()).Spec.UpdateStrategy;
        var podsBefore = await PodImagesByUidAsync();
        Assert.Equal(Nodes, podsBefore.Count);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "daemonset/web", "web=" + Image2);

        var hold = HoldId.For([Image2]);
        var held = await WebDaemonSetAsync();
        Assert.Equal(hold, Annotation(held.Metadata, KwarmApi.HoldAnnotation));
        Assert.Equal("OnDelete", held.Spec.UpdateStrategy.Type);
        Assert.Equal(KubernetesJsonText(userStrategy), KubernetesJsonText(KubernetesJson.Deserialize<V1DaemonSetUpdateStrategy>(Annotation(held.Metadata, "kwarm.io/update-strategy")!)));
        Assert.Equal(2, int.Parse(userStrategy.RollingUpdate.MaxUnavailable.Value, System.Globalization.CultureInfo.InvariantCulture));
        await WaitForFirstPulledNodeAsync();
        Assert.Equal(hold, Annotation((await WebDaemonSetAsync()).Metadata, KwarmApi.HoldAnnotation));
        var podsWhileHeld = await PodImagesByUidAsync();
        Assert.Equal(podsBefore, podsWhileHeld);
        var image = Assert.Single(await PrePullImagesAsync());
        Assert.Equal("web", image.Metadata.Labels["kwarm.io/daemonset"]);
        Assert.Equal("DaemonSet", Assert.Single(image.Metadata.OwnerReferences).Kind);

        await Eventually.WaitUntilAsync(
            async () => Annotation((await WebDaemonSetAsync()).Metadata, KwarmApi.ReleasedAnnotation) == hold, "the release of hold " + hold, TimeSpan.FromSeconds(60));
        Assert.Equal("Warm", (await ReleasedEventAsync()).Action);
        var released = await WebDaemonSetAsync();
        Assert.Equal(KubernetesJsonText(userStrategy), KubernetesJsonText(released.Spec.UpdateStrategy));
        Assert.Null(Annotation(released.Metadata, "kwarm.io/update-strategy"));
        var warmed = Assert.Single(await PrePullImagesAsync());
        Assert.Equal(Nodes, warmed.Status!.Nodes!.Count);
        Assert.All(warmed.Status.Nodes!, node => Assert.True(node.Status == NodePullState.Completed && node.RetryCount is null or 0, $"{node.Node}: {node.Status} after {node.RetryCount} retries"));

        var nodes = warmed.Status.Nodes!.Select(node => node.Node).ToList();
        var pullsAtRelease = nodes.ToDictionary(n => n, Cluster.PullCount);
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "daemonset/web", "--timeout=60s");
        var podsAfter = await PodImagesByUidAsync();
        Assert.Equal(Nodes, podsAfter.Count);
        Assert.All(podsAfter, pod => Assert.Equal(Image2, pod.Value));
        Assert.Empty(podsAfter.Keys.Intersect(podsBefore.Keys));
        Assert.Equal(pullsAtRelease, nodes.ToDictionary(n => n, Cluster.PullCount));
    }

    [Fact]
    public async Task A_StatefulSet_is_held_behind_the_top_partition_a_scale_up_starts_on_the_old_revision_and_the_release_restores_the_users_partition()
    {
        await ApplyAsync(Policy("10m", "Release"));
        await Cluster.StartKwarmAsync();
        await ApplyAsync(RestrictedNamespace + "\n---\n" + WebStatefulSet(Image1));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "statefulset/web", "--timeout=60s");
        KeepPullsBusy();

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "statefulset/web", "web=" + Image2);

        var hold = HoldId.For([Image2]);
        var held = await WebStatefulSetAsync();
        Assert.Equal(hold, Annotation(held.Metadata, KwarmApi.HoldAnnotation));
        Assert.Equal(int.Parse(MaxPartition, System.Globalization.CultureInfo.InvariantCulture), held.Spec.UpdateStrategy.RollingUpdate.Partition);
        Assert.Equal("1", Annotation(held.Metadata, "kwarm.io/partition"));
        await Eventually.WaitUntilAsync(async () => (await PrePullImagesAsync()).Count > 0, "the hold's PrePullImage");
        var image = Assert.Single(await PrePullImagesAsync());
        Assert.Equal("web", image.Metadata.Labels["kwarm.io/statefulset"]);
        Assert.Equal("StatefulSet", Assert.Single(image.Metadata.OwnerReferences).Kind);

        // A scale-up during the hold: the new ordinal starts on the revision that is running, not the held one.
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "scale", "statefulset/web", "--replicas=4");
        await Eventually.WaitUntilAsync(async () => (await WebStatefulSetAsync()).Status?.ReadyReplicas == 4, "web-3 to be Ready");
        Assert.All(await WebPodsAsync(), pod => Assert.Equal(Image1, pod.Spec.Containers[0].Image));
        var duringHold = await WebStatefulSetAsync();
        Assert.Equal(MaxPartition, duringHold.Spec.UpdateStrategy.RollingUpdate.Partition?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(hold, Annotation(duringHold.Metadata, KwarmApi.HoldAnnotation));

        Cluster.Registry.SetSlow(Image2, 1);
        await Eventually.WaitUntilAsync(
            async () => Annotation((await WebStatefulSetAsync()).Metadata, KwarmApi.ReleasedAnnotation) == hold, "the release of hold " + hold, TimeSpan.FromSeconds(60));
        var released = await WebStatefulSetAsync();
        Assert.Equal(1, released.Spec.UpdateStrategy.RollingUpdate.Partition);
        Assert.Null(Annotation(released.Metadata, "kwarm.io/partition"));

        var nodes = Assert.Single(await PrePullImagesAsync()).Status!.Nodes!.Select(node => node.Node).ToList();
        var pullsAtRelease = nodes.ToDictionary(n => n, Cluster.PullCount);
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "statefulset/web", "--timeout=60s");
        await Eventually.WaitUntilAsync(async () => (await WebStatefulSetAsync()).Status?.UpdatedReplicas == 3, "ordinals 1 to 3 to be updated");
        var pods = (await WebPodsAsync()).ToDictionary(pod => pod.Metadata.Name, pod => pod.Spec.Containers[0].Image);
        Assert.Equal(Image1, pods["web-0"]);
        Assert.All(["web-1", "web-2", "web-3"], name => Assert.Equal(Image2, pods[name]));
        Assert.Equal(pullsAtRelease, nodes.ToDictionary(n => n, Cluster.PullCount));
    }

    private static string KubernetesJsonText(object value) => KubernetesJson.Serialize(value);
}
