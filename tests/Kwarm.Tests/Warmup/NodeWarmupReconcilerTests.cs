using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Kwarm.Warmup;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Kwarm.Tests.Warmup.WarmupPlannerTests;

namespace Kwarm.Tests.Warmup;

public sealed class NodeWarmupReconcilerTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly ResourceCache<V1Node> _nodes = new();
    private readonly ResourceCache<PrePullPolicy> _policies = new();
    private readonly ResourceCache<V1Deployment> _deployments = new();
    private readonly ResourceCache<PrePullImage> _images = new();
    private readonly FakeWarmupApi _api;
    private readonly NodeWarmupReconciler _reconciler;

    public NodeWarmupReconcilerTests()
    {
        _api = new FakeWarmupApi(_nodes, _images);
        var sources = new WarmupSources(_nodes, _policies, _deployments, new ResourceCache<V1StatefulSet>(), new ResourceCache<V1DaemonSet>(), _images, new ResourceCache<V1ServiceAccount>());
        _reconciler = new NodeWarmupReconciler(
            sources, _api, new KwarmMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), _time, NullLogger<NodeWarmupReconciler>.Instance, "kwarm-system", "kwarm-0");
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task A_joining_node_is_announced_pulled_for_and_lifted_once_warm_then_its_PrePullImage_goes()
    {
        _policies.Upsert(Policy("warm", enabled: true));
        _deployments.Upsert(Deployment("web", "registry.local/web:2"));
        _nodes.Upsert(WarmingNode("new-1", taints: [new V1Taint { Key = "example.com/other", Effect = "PreferNoSchedule" }], created: _time.GetUtcNow().AddMinutes(-1)));
        var name = WarmupNames.PrePullImage("registry.local/web:2", "new-1");

        var first = await PassAsync();

        Assert.Equal([$"create shop/{name}"], _api.Writes);
        Assert.Equal(WarmupEvents.Started, Assert.Single(_api.Events).Reason);
        Assert.Equal(TimeSpan.FromMinutes(9), first.RequeueAfter);
        Assert.True(WarmingTaint.IsOn(_nodes.Get(null, "new-1")!));

        // A pass with nothing new writes nothing and announces nothing twice.
        _api.Writes.Clear();
        await PassAsync();
        Assert.Empty(_api.Writes);
        Assert.Single(_api.Events);

        // The pull engine records the node's pull: the taint comes off, the provisioner's other taint stays.
        var pulled = _images.Get("shop", name)!;
        _images.Upsert(pulled with { Status = new PrePullImageStatus { Nodes = [new NodePullStatus { Node = "new-1", Status = NodePullState.Completed }] } });
        var lifted = await PassAsync();

        Assert.Equal(ReconcileResult.Done, lifted);
        var node = _nodes.Get(null, "new-1")!;
        Assert.False(WarmingTaint.IsOn(node));
        Assert.Equal(["example.com/other"], node.Spec.Taints.Select(t => t.Key));
        var warm = _api.Events.Last();
        Assert.Equal(WarmupEvents.Warm, warm.Reason);
        Assert.Equal("Normal", warm.Type);
        Assert.Contains("registry.local/web:2", warm.Message, StringComparison.Ordinal);
        Assert.Equal("Node", warm.InvolvedObject.Kind);

        _api.Writes.Clear();
        await PassAsync();
        Assert.Equal([$"delete shop/{name}"], _api.Writes);
    }

    [Fact]
    public async Task A_second_node_gets_a_PrePullImage_of_its_own_and_one_whose_settings_changed_is_replaced_by_delete_and_create()
    {
        _policies.Upsert(Policy("warm", enabled: true));
        _deployments.Upsert(Deployment("web", "registry.local/web:2"));
        _nodes.Upsert(WarmingNode("new-1", created: _time.GetUtcNow()));
        await PassAsync();
        _nodes.Upsert(WarmingNode("new-2", created: _time.GetUtcNow()));
        _api.Writes.Clear();

        await PassAsync();

        Assert.Equal([$"create shop/{WarmupNames.PrePullImage("registry.local/web:2", "new-2")}"], _api.Writes);

        // The workload now tolerates a taint: its pull pods must too, and a PrePullImage's spec is never updated.
        _deployments.Upsert(Deployment("web", "registry.local/web:2", tolerations: [new V1Toleration { Key = "example.com/spot", OperatorProperty = "Exists" }]));
        _api.Writes.Clear();
        await PassAsync();
        Assert.Equal(2, _api.Writes.Count);
        Assert.All(_api.Writes, write => Assert.StartsWith("delete shop/kwarm-warmup-", write, StringComparison.Ordinal));
        await PassAsync();
        Assert.Equal(2, _images.List().Count);
        Assert.All(_images.List(), image => Assert.Contains(image.Spec.Tolerations!, t => t.Key == "example.com/spot"));
    }

    [Fact]
    public async Task A_node_whose_image_never_comes_is_lifted_at_maxDuration_with_a_timeout_event()
    {
        _policies.Upsert(Policy("warm", enabled: true, maxDuration: "5m"));
        _deployments.Upsert(Deployment("web", "registry.local/web:2"));
        _nodes.Upsert(WarmingNode("new-1", created: _time.GetUtcNow()));

        var waiting = await PassAsync();
        Assert.Equal(TimeSpan.FromMinutes(5), waiting.RequeueAfter);
        _time.Advance(TimeSpan.FromMinutes(5));
        await PassAsync();

        Assert.False(WarmingTaint.IsOn(_nodes.Get(null, "new-1")!));
        var timeout = _api.Events.Last();
        Assert.Equal(WarmupEvents.Timeout, timeout.Reason);
        Assert.Equal("Warning", timeout.Type);
    }

    [Fact]
    public async Task After_a_restart_a_node_past_its_deadline_is_lifted_in_the_first_pass()
    {
        _policies.Upsert(Policy("warm", enabled: true));
        _deployments.Upsert(Deployment("web", "registry.local/web:2"));
        _nodes.Upsert(WarmingNode("stale", created: _time.GetUtcNow().AddHours(-1)));

        var result = await PassAsync();

        Assert.Equal(ReconcileResult.Done, result);
        Assert.False(WarmingTaint.IsOn(_nodes.Get(null, "stale")!));
        Assert.Equal(WarmupEvents.Timeout, Assert.Single(_api.Events).Reason);
    }

    [Fact]
    public async Task A_refused_lift_leaves_the_node_tainted_for_the_next_pass_to_decide()
    {
        _nodes.Upsert(WarmingNode("new-1", created: _time.GetUtcNow()));
        _api.RefuseNextPatch = true;

        await PassAsync();
        Assert.True(WarmingTaint.IsOn(_nodes.Get(null, "new-1")!));
        Assert.Empty(_api.Events);

        await PassAsync();
        Assert.False(WarmingTaint.IsOn(_nodes.Get(null, "new-1")!));
        Assert.Equal(WarmupEvents.Warm, Assert.Single(_api.Events).Reason);
    }

    [Fact]
    public async Task A_registering_node_gets_its_PrePullImage_once_it_can_pull_and_one_that_finished_too_early_is_created_again()
    {
        _policies.Upsert(Policy("warm", enabled: true));
        _deployments.Upsert(Deployment("web", "registry.local/web:2"));
        var notReadyTaint = new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoSchedule" };
        _nodes.Upsert(WarmingNode("new-1", taints: [notReadyTaint], created: _time.GetUtcNow()));
        var name = WarmupNames.PrePullImage("registry.local/web:2", "new-1");

        await PassAsync();
        Assert.Empty(_api.Writes);
        Assert.Equal(WarmupEvents.Started, Assert.Single(_api.Events).Reason);

        // Ready: the PrePullImage comes. Say the pull engine saw the node a moment late and finished without it.
        _nodes.Upsert(WarmingNode("new-1", created: _time.GetUtcNow()));
        await PassAsync();
        Assert.Equal([$"create shop/{name}"], _api.Writes);
        var early = _images.Get("shop", name)!;
        _images.Upsert(early with { Status = new PrePullImageStatus { Phase = PrePullImagePhase.Completed, Nodes = [] } });

        _api.Writes.Clear();
        await PassAsync();
        await PassAsync();
        Assert.Equal([$"delete shop/{name}", $"create shop/{name}"], _api.Writes);
        Assert.True(WarmingTaint.IsOn(_nodes.Get(null, "new-1")!));
        Assert.Null(_images.Get("shop", name)!.Status);
    }

    private Task<ReconcileResult> PassAsync() => _reconciler.RunPassAsync(WarmupPass.Due, TestContext.Current.CancellationToken);
}
