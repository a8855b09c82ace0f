using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Pulling;

/// <summary>
/// The pull engine of one leadership term, wired: a <see cref="PrePullImageReconciler"/> (one PrePullImage per key of
/// the PrePullImage queue) and a <see cref="PullSchedulingLoop"/> (one pass per <see cref="PullSchedulingPass"/> of its
/// own queue), which share only state that one writes and the other reads (<see cref="PullScheduler"/>'s demand and
/// reservations, <see cref="KnownPullStatuses"/>); <see cref="Events"/> turns informer events into work for both.
/// Everything here is rebuilt empty by the next leader: what it keeps only avoids duplicate work.
/// </summary>
public sealed class PullTerm
{
    private Action<string> _enqueueImage = _ => { };

    public PullTerm(
        ResourceCache<PrePullImage> images,
        ResourceCache<V1Node> nodes,
        ResourceCache<V1Job> jobs,
        ResourceCache<V1Pod> pods,
        IPullApi api,
        PullEngineOptions options,
        KwarmMetrics? metrics,
        TimeProvider timeProvider,
        ILogger logger,
        ResourceCache<V1Deployment>? deployments = null)
        : this(images, nodes, jobs, pods, api, options, metrics, timeProvider, logger, deployments, new KnownPullStatuses(images))
    {
    }

    internal PullTerm(
        ResourceCache<PrePullImage> images,
        ResourceCache<V1Node> nodes,
        ResourceCache<V1Job> jobs,
        ResourceCache<V1Pod> pods,
        IPullApi api,
        PullEngineOptions options,
        KwarmMetrics? metrics,
        TimeProvider timeProvider,
        ILogger logger,
        ResourceCache<V1Deployment>? deployments,
        KnownPullStatuses known)
    {
        ArgumentNullException.ThrowIfNull(options);
        Scheduler = new PullScheduler(options.MaxConcurrentPulls, options.MaxPullsPerNode, timeProvider);
        var pullMetrics = new PullMetrics(metrics, images, jobs, pods, Scheduler);
        var kubeletErrors = new KubeletPullErrors();
        Reconciler = new PrePullImageReconciler(
            nodes, jobs, pods, deployments, api, options, Scheduler, Trigger, known, kubeletErrors, pullMetrics, timeProvider, logger, Selection);
        Scheduling = new PullSchedulingLoop(jobs, pods, api, options, Scheduler, Trigger, known, pullMetrics, key => _enqueueImage(key), logger);
        Events = new PullEventMapper(images, jobs, Scheduler, Trigger, kubeletErrors, pullMetrics, key => _enqueueImage(key), Selection);
    }

    /// <summary>Which nodes each PrePullImage selects, kept between reconciles (the reconciler reads it, node events renew it).</summary>
    public NodeSelection Selection { get; } = new();

    /// <summary>The demand the reconciler records and the reservations of the scheduling loop (the caps).</summary>
    public PullScheduler Scheduler { get; }

    public PullSchedulingTrigger Trigger { get; } = new();

    public PrePullImageReconciler Reconciler { get; }

    public PullSchedulingLoop Scheduling { get; }

    public PullEventMapper Events { get; }

    /// <summary>Where PrePullImage keys go (the term's PrePullImage queue).</summary>
    public void AttachImageQueue(Action<string> enqueue) => _enqueueImage = enqueue ?? throw new ArgumentNullException(nameof(enqueue));
}
