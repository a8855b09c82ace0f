using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Kwarm.Workloads;
using Microsoft.Extensions.Logging;
using k8s.Models;

namespace Kwarm.Holds;

/// <summary>
/// Leader-only: keeps every PrePullPolicy's status (<c>watchedDeployments</c>, <c>watchedStatefulSets</c>,
/// <c>watchedDaemonSets</c>, <c>activeHolds</c> of every kind, conditions) and the metrics
/// <c>kwarm_watched_deployments{policy}</c>, <c>kwarm_watched_workloads{policy,kind}</c> and <c>kwarm_holds_active{kind}</c>
/// in step with the caches.
/// Keys are policy names plus <see cref="TotalsKey"/> (not a valid object name) for the cluster-wide gauge.
/// Status is written only when it changed.
/// </summary>
public sealed class PolicyStatusController : ILeaderOnlyWorker
{
    public const string TotalsKey = "*";

    /// <summary>
    /// How long workload events gather before the counts are taken again. Each pass counts every cached workload
    /// (25,000 at Kubernetes' limits), and a rollout or a storm of image changes sends thousands of workload events a
    /// minute: counted on every one, the passes ran back to back and kept a core busy (issue #18's storm measured it).
    /// A policy's status and gauges lag the cluster by at most this much.
    /// </summary>
    public static readonly TimeSpan CountingInterval = TimeSpan.FromSeconds(5);

    private readonly ResourceInformer<V1Deployment> _deployments;
    private readonly ResourceInformer<V1StatefulSet> _statefulSets;
    private readonly ResourceInformer<V1DaemonSet> _daemonSets;
    private readonly ResourceInformer<PrePullPolicy> _policies;
    private readonly IHoldApi _api;
    private readonly KwarmMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RuntimeMetrics _runtimeMetrics;

    public PolicyStatusController(
        ResourceInformer<V1Deployment> deployments,
        ResourceInformer<V1StatefulSet> statefulSets,
        ResourceInformer<V1DaemonSet> daemonSets,
        ResourceInformer<PrePullPolicy> policies,
        IHoldApi api,
        KwarmMetrics metrics,
        TimeProvider time,
        ILogger<PolicyStatusController> logger,
        RuntimeMetrics runtimeMetrics)
    {
        _runtimeMetrics = runtimeMetrics;
        _deployments = deployments;
        _statefulSets = statefulSets;
        _daemonSets = daemonSets;
        _policies = policies;
        _api = api;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public Task RunAsync(CancellationToken leadership) =>
        ControllerLoop.RunAsync<string>(
            "policy-status",
            queue =>
            [
                // Any workload or policy change may move counts or precedence of every policy: a delayed add of a key
                // already waiting is dropped, so the events of each CountingInterval cost one pass per policy.
                _deployments.Subscribe(_ => EnqueueAll(queue)),
                _statefulSets.Subscribe(_ => EnqueueAll(queue)),
                _daemonSets.Subscribe(_ => EnqueueAll(queue)),
                _policies.Subscribe(change =>
                {
                    // The changed policy itself at once: its own spec (and a new policy's first status) shows promptly.
                    queue.Add(change.Resource.Metadata.Name);
                    EnqueueAll(queue);
                }),
            ],
            ReconcileAsync,
            1,
            new WorkQueueOptions(),
            _time,
            _logger,
            _runtimeMetrics,
            leadership);

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var workloads = _deployments.Cache.List().Select(WorkloadObject.Of)
            .Concat(_statefulSets.Cache.List().Select(WorkloadObject.Of))
            .Concat(_daemonSets.Cache.List().Select(WorkloadObject.Of))
            .ToList();
        if (key == TotalsKey)
        {
            // Held: the hold's spec change in place with a hold annotation (paused, partition 2147483647, OnDelete).
            foreach (var kind in Enum.GetValues<WorkloadKind>())
            {
                _metrics.SetHoldsActive(kind, workloads.Count(workload =>
                    workload.Kind == kind && workload.HoldEngaged && workload.Metadata.Annotations?.ValueOf(KwarmApi.HoldAnnotation) is { Length: > 0 }));
            }

            return ReconcileResult.Done;
        }

        var policy = _policies.Cache.Get(key);
        if (policy is null)
        {
            _metrics.ForgetPolicy(key);
            return ReconcileResult.Done;
        }

        var policies = _policies.Cache.List();
        var counts = PolicyStatusCalculator.CountWorkloads(policy, policies, workloads);
        foreach (var kind in Enum.GetValues<WorkloadKind>())
        {
            _metrics.SetWatchedWorkloads(key, kind, counts.WatchedOf(kind));
        }

        if (policy.Metadata.DeletionTimestamp is null
            && PolicyStatusCalculator.Desired(policy, counts, _time.GetUtcNow()) is { } status)
        {
            await _api.PatchPolicyStatusAsync(key, status, cancellationToken).ConfigureAwait(false);
            _logger.PolicyStatusUpdated(key, counts.Watched, counts.ActiveHolds);
        }

        return ReconcileResult.Done;
    }

    private void EnqueueAll(WorkQueue<string> queue)
    {
        queue.AddAfter(TotalsKey, CountingInterval);
        foreach (var name in _policies.Cache.Keys())
        {
            queue.AddAfter(name, CountingInterval);
        }
    }
}
