using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Holds;

/// <summary>
/// The leader-only loop of the hold controller: Deployment, PrePullImage and PrePullPolicy watch events become
/// Deployment keys in a work queue, which <see cref="HoldReconciler"/> drains. The only timer is the queue's
/// <c>AddAfter</c>, asked for by a reconcile that waits for <c>hold.maxDuration</c>.
/// </summary>
public sealed class HoldController : ILeaderOnlyWorker
{
    private const int Workers = 4;

    private readonly ResourceInformer<V1Deployment> _deployments;
    private readonly ResourceInformer<PrePullImage> _images;
    private readonly ResourceInformer<PrePullPolicy> _policies;
    private readonly HoldReconciler _reconciler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RuntimeMetrics _runtimeMetrics;

    public HoldController(
        ResourceInformer<V1Deployment> deployments,
        ResourceInformer<PrePullImage> images,
        ResourceInformer<PrePullPolicy> policies,
        HoldReconciler reconciler,
        TimeProvider time,
        ILogger<HoldController> logger,
        RuntimeMetrics runtimeMetrics)
    {
        _runtimeMetrics = runtimeMetrics;
        _deployments = deployments;
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
                _deployments.Subscribe(change =>
                {
                    if (IsRelevant(change.Resource) || (change.Previous is { } previous && IsRelevant(previous)) || change.Type == ResourceEventType.Deleted)
                    {
                        queue.Add(ResourceKeys.For(change.Resource));
                    }
                }),
                _images.Subscribe(change =>
                {
                    if (PrePullImagePlanner.OwnerDeploymentName(change.Resource) is { } owner)
                    {
                        queue.Add(ResourceKeys.For(change.Resource.Metadata.NamespaceProperty, owner));
                    }
                }),
                _policies.Subscribe(change =>
                {
                    // A changed or deleted policy changes the verdict of the holds placed under it.
                    var name = change.Resource.Metadata.Name;
                    foreach (var deployment in _deployments.Cache.List())
                    {
                        if (deployment.Metadata.Annotations?.TryGetValue(KwarmApi.PolicyAnnotation, out var policy) == true && policy == name)
                        {
                            queue.Add(ResourceKeys.For(deployment));
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

    /// <summary>
    /// Deployments Kwarm may have something to do for: an active hold, a released one whose leftovers may need
    /// removing, or an update rollout in progress (pre-pulled without a hold under <c>hold.enabled: false</c>).
    /// </summary>
    private static bool IsRelevant(V1Deployment deployment) =>
        (deployment.Metadata.Annotations is { } annotations
            && (annotations.ContainsKey(KwarmApi.HoldAnnotation) || annotations.ContainsKey(KwarmApi.ReleasedAnnotation)))
        || HoldReconciler.IsUpdateRolloutInProgress(deployment);
}
