using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;
using Microsoft.Extensions.Logging;
using k8s.Models;

namespace Kwarm.Holds;

/// <summary>
/// The leader-only loop of the hold controller: Deployment, StatefulSet, DaemonSet, PrePullImage and PrePullPolicy watch
/// events become workload keys (<see cref="WorkloadKeys"/>) in a work queue, which <see cref="HoldReconciler"/> drains. The only timer is the queue's
/// <c>AddAfter</c>, asked for by a reconcile that waits for <c>hold.maxDuration</c>.
/// </summary>
public sealed class HoldController : ILeaderOnlyWorker
{
    private const int Workers = 4;

    private readonly ResourceInformer<V1Deployment> _deployments;
    private readonly ResourceInformer<V1StatefulSet> _statefulSets;
    private readonly ResourceInformer<V1DaemonSet> _daemonSets;
    private readonly ResourceInformer<PrePullImage> _images;
    private readonly ResourceInformer<PrePullPolicy> _policies;
    private readonly HoldReconciler _reconciler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RuntimeMetrics _runtimeMetrics;

    public HoldController(
        ResourceInformer<V1Deployment> deployments,
        ResourceInformer<V1StatefulSet> statefulSets,
        ResourceInformer<V1DaemonSet> daemonSets,
        ResourceInformer<PrePullImage> images,
        ResourceInformer<PrePullPolicy> policies,
        HoldReconciler reconciler,
        TimeProvider time,
        ILogger<HoldController> logger,
        RuntimeMetrics runtimeMetrics)
    {
        _runtimeMetrics = runtimeMetrics;
        _deployments = deployments;
        _statefulSets = statefulSets;
        _daemonSets = daemonSets;
        _images = images;
        _policies = policies;
        _reconciler = reconciler;
        _time = time;
        _logger = logger;
    }

    public Task RunAsync(CancellationToken leadership) =>
        ControllerLoop.RunAsync<string>(
            "holds",
            queue =>
            [
                _deployments.Subscribe(change => OnWorkload(queue, change.Type, WorkloadObject.Of(change.Resource), change.Previous is { } previous ? WorkloadObject.Of(previous) : null)),
                _statefulSets.Subscribe(change => OnWorkload(queue, change.Type, WorkloadObject.Of(change.Resource), change.Previous is { } previous ? WorkloadObject.Of(previous) : null)),
                _daemonSets.Subscribe(change => OnWorkload(queue, change.Type, WorkloadObject.Of(change.Resource), change.Previous is { } previous ? WorkloadObject.Of(previous) : null)),
                _images.Subscribe(change =>
                {
                    if (PrePullImagePlanner.Owner(change.Resource) is { } owner)
                    {
                        queue.Add(WorkloadKeys.For(owner.Kind, change.Resource.Metadata.NamespaceProperty, owner.Name));
                    }
                }),
                _policies.Subscribe(change =>
                {
                    // A changed or deleted policy changes the verdict of the holds placed under it.
                    var name = change.Resource.Metadata.Name;
                    foreach (var workload in Workloads())
                    {
                        if (workload.Metadata.Annotations?.TryGetValue(KwarmApi.PolicyAnnotation, out var policy) == true && policy == name)
                        {
                            queue.Add(workload.Key);
                        }
                    }
                }),
            ],
            _reconciler.ReconcileAsync,
            Workers,
            new WorkQueueOptions(),
            _time,
            _logger,
            _runtimeMetrics,
            leadership);

    private static void OnWorkload(WorkQueue<string> queue, ResourceEventType type, WorkloadObject workload, WorkloadObject? previous)
    {
        if (IsRelevant(workload) || (previous is not null && IsRelevant(previous)) || type == ResourceEventType.Deleted)
        {
            queue.Add(workload.Key);
        }
    }

    private IEnumerable<WorkloadObject> Workloads() =>
        _deployments.Cache.List().Select(WorkloadObject.Of)
            .Concat(_statefulSets.Cache.List().Select(WorkloadObject.Of))
            .Concat(_daemonSets.Cache.List().Select(WorkloadObject.Of));

    /// <summary>
    /// Workloads Kwarm may have something to do for: an active hold, a released one whose leftovers may need
    /// removing, or an update rollout in progress (pre-pulled without a hold under <c>hold.enabled: false</c> or the
    /// user's own OnDelete).
    /// </summary>
    private static bool IsRelevant(WorkloadObject workload) =>
        (workload.Metadata.Annotations is { } annotations
            && (annotations.ContainsKey(KwarmApi.HoldAnnotation) || annotations.ContainsKey(KwarmApi.ReleasedAnnotation)))
        || workload.IsUpdateRolloutInProgress;
}
