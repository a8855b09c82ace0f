using System.Collections.Concurrent;
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

                // Which nodes warm, kept from the node events (the subscription replays the cache first), so that a
                // workload event costs a lookup rather than a scan of every node.
                var warming = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
                return
                [
                    _nodes.Subscribe(change =>
                    {
                        var name = change.Resource.Metadata?.Name ?? "";
                        if (change.Type != ResourceEventType.Deleted && WarmingTaint.IsOn(change.Resource))
                        {
                            warming[name] = 0;
                            queue.Add(WarmupPass.Due);
                        }
                        else if (warming.TryRemove(name, out _) || (change.Previous is { } previous && WarmingTaint.IsOn(previous)))
                        {
                            queue.Add(WarmupPass.Due);
                        }
                    }),
                    _deployments.Subscribe(change => WhileWarming(queue, warming, change.Previous?.Metadata, change.Resource.Metadata, change.Type)),
                    _statefulSets.Subscribe(change => WhileWarming(queue, warming, change.Previous?.Metadata, change.Resource.Metadata, change.Type)),
                    _daemonSets.Subscribe(change => WhileWarming(queue, warming, change.Previous?.Metadata, change.Resource.Metadata, change.Type)),
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

    /// <summary>
    /// A workload change matters only while some node warms, and only when it came or went, its spec changed (its
    /// generation moved: the pod template is in the spec; a status update leaves the generation alone) or its labels,
    /// which decide the policy it follows, changed.
    /// </summary>
    private static void WhileWarming(
        WorkQueue<WarmupPass> queue, ConcurrentDictionary<string, byte> warming, V1ObjectMeta? before, V1ObjectMeta? after, ResourceEventType type)
    {
        if (warming.IsEmpty)
        {
            return;
        }

        if (type != ResourceEventType.Updated || before?.Generation != after?.Generation || !SameLabels(before?.Labels, after?.Labels))
        {
            queue.Add(WarmupPass.Due);
        }
    }

    private static bool SameLabels(IDictionary<string, string>? before, IDictionary<string, string>? after) =>
        (before?.Count ?? 0) == (after?.Count ?? 0)
        && (before ?? new Dictionary<string, string>()).All(label => after is not null && after.TryGetValue(label.Key, out var value) && value == label.Value);
}
