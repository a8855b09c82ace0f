using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Warmup;

/// <summary>
/// The leader-only loop of the node warm-up: watch events that can change a warming node's verdict become a
/// <see cref="WarmupPass"/> in a work queue of one key, which <see cref="NodeWarmupReconciler"/> drains with one worker.
/// Events that cannot matter (a Deployment's status moving while no node warms; another controller's PrePullImage) are
/// dropped here, so a cluster without warming nodes costs nothing beyond the watches it already has.
/// </summary>
public sealed class NodeWarmupController : ILeaderOnlyWorker
{
    private readonly ResourceInformer<V1Node> _nodes;
    private readonly ResourceInformer<V1Deployment> _deployments;
    private readonly ResourceInformer<V1StatefulSet> _statefulSets;
    private readonly ResourceInformer<V1DaemonSet> _daemonSets;
    private readonly ResourceInformer<PrePullImage> _images;
    private readonly ResourceInformer<PrePullPolicy> _policies;
    private readonly NodeWarmupReconciler _reconciler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RuntimeMetrics _runtimeMetrics;

    public NodeWarmupController(
        ResourceInformer<V1Node> nodes,
        ResourceInformer<V1Deployment> deployments,
        ResourceInformer<V1StatefulSet> statefulSets,
        ResourceInformer<V1DaemonSet> daemonSets,
        ResourceInformer<PrePullImage> images,
        ResourceInformer<PrePullPolicy> policies,
        NodeWarmupReconciler reconciler,
        TimeProvider time,
        ILogger<NodeWarmupController> logger,
        RuntimeMetrics runtimeMetrics)
    {
        _nodes = nodes;
        _deployments = deployments;
        _statefulSets = statefulSets;
        _daemonSets = daemonSets;
        _images = images;
        _policies = policies;
        _reconciler = reconciler;
        _time = time;
        _logger = logger;
        _runtimeMetrics = runtimeMetrics;
    }

    public Task RunAsync(CancellationToken leadership) =>
        ControllerLoop.RunAsync<WarmupPass>(
            "warmup",
            queue =>
            {
                // The first pass runs at once: tainted nodes (some perhaps past their deadline) may have waited
                // through a restart or failover.
                queue.Add(WarmupPass.Due);
                return
                [
                    _nodes.Subscribe(change =>
                    {
                        if (WarmingTaint.IsOn(change.Resource) || (change.Previous is { } previous && WarmingTaint.IsOn(previous)))
                        {
                            queue.Add(WarmupPass.Due);
                        }
                    }),
                    _deployments.Subscribe(change => WhileWarming(queue, change.Previous?.Spec?.Template, change.Resource.Spec?.Template, change.Type)),
                    _statefulSets.Subscribe(change => WhileWarming(queue, change.Previous?.Spec?.Template, change.Resource.Spec?.Template, change.Type)),
                    _daemonSets.Subscribe(change => WhileWarming(queue, change.Previous?.Spec?.Template, change.Resource.Spec?.Template, change.Type)),
                    _images.Subscribe(change =>
                    {
                        if (WarmupSources.IsWarmupImage(change.Resource))
                        {
                            queue.Add(WarmupPass.Due);
                        }
                    }),
                    _policies.Subscribe(_ => queue.Add(WarmupPass.Due)),
                ];
            },
            _reconciler.RunPassAsync,
            1,
            new WorkQueueOptions(),
            _time,
            _logger,
            _runtimeMetrics,
            leadership);

    /// <summary>A workload change matters only while some node warms, and only when its pods or its existence changed.</summary>
    private void WhileWarming(WorkQueue<WarmupPass> queue, V1PodTemplateSpec? before, V1PodTemplateSpec? after, ResourceEventType type)
    {
        if (!_nodes.Cache.List().Any(WarmingTaint.IsOn))
        {
            return;
        }

        if (type != ResourceEventType.Updated || !ReferenceEquals(before, after) && KwarmJson.Serialize(before) != KwarmJson.Serialize(after))
        {
            queue.Add(WarmupPass.Due);
        }
    }
}
