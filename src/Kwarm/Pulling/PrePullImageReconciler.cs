using System.Collections.Concurrent;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Pulling;

/// <summary>
/// Reconciles one PrePullImage per work-queue key: plans from the caches and the status (<see cref="PullPlanner"/>),
/// writes the status, records the attempts ready to start as demand in the <see cref="PullScheduler"/> (and asks the
/// scheduling loop for a pass through its <see cref="PullSchedulingTrigger"/>), deletes Jobs of finished attempts and
/// deletes finished PrePullImages after their TTL. It never creates a Job: that is the scheduling loop's, which it
/// does not know.
/// </summary>
public sealed class PrePullImageReconciler
{
    /// <summary>The Ready reason of a PrePullImage whose image reference or digest no node would accept.</summary>
    public const string InvalidImageReason = "InvalidImage";

    /// <summary>The Ready reason of a PrePullImage with another value a pull pod cannot carry.</summary>
    public const string InvalidSpecReason = "InvalidSpec";

    private static readonly TimeSpan DeleteRepeatAfter = TimeSpan.FromSeconds(30);

    private readonly ResourceCache<V1Deployment>? _deployments;
    private readonly ResourceCache<V1Node> _nodes;
    private readonly NodeSelection _selection;
    private readonly ResourceCache<V1Job> _jobs;
    private readonly ResourceCache<V1Pod> _pods;
    private readonly IPullApi _api;
    private readonly PullEngineOptions _options;
    private readonly PullScheduler _scheduler;
    private readonly PullSchedulingTrigger _scheduling;
    private readonly KnownPullStatuses _known;
    private readonly KubeletPullErrors _kubeletErrors;
    private readonly PullMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Deletes asked for, by Job key, with the UID of the Job they were for (a Job created again under the name is a new one).</summary>
    private readonly ConcurrentDictionary<string, (string? Uid, DateTimeOffset At)> _deleteRequested = new(StringComparer.Ordinal);

    public PrePullImageReconciler(
        ResourceCache<V1Node> nodes,
        ResourceCache<V1Job> jobs,
        ResourceCache<V1Pod> pods,
        ResourceCache<V1Deployment>? deployments,
        IPullApi api,
        PullEngineOptions options,
        PullScheduler scheduler,
        PullSchedulingTrigger scheduling,
        KnownPullStatuses known,
        KubeletPullErrors kubeletErrors,
        PullMetrics metrics,
        TimeProvider timeProvider,
        ILogger logger,
        NodeSelection? selection = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _selection = selection ?? new NodeSelection();
        _nodes = nodes;
        _jobs = jobs;
        _pods = pods;
        _deployments = deployments;
        _api = api;
        _options = options;
        _scheduler = scheduler;
        _scheduling = scheduling;
        _known = known;
        _kubeletErrors = kubeletErrors;
        _metrics = metrics;
        _time = timeProvider;
        _logger = logger;
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var image = _known.Current(key);
        if (image?.Metadata is null || image.Metadata.DeletionTimestamp is not null)
        {
            await CancelAsync(key, image, cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        var uid = image.Metadata.Uid ?? "";
        if (image.Spec is null || image.Spec.BlockingProblems() is { Count: > 0 })
        {
            var imageProblems = image.Spec?.ImageProblems() ?? ["spec: missing"];
            var reason = imageProblems.Count > 0 ? InvalidImageReason : InvalidSpecReason;
            var problems = image.Spec?.BlockingProblems() ?? imageProblems;
            await RejectAsync(key, image, reason, string.Join("; ", problems), cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }

        // Jobs of an earlier object of the same name (deleted and created again) are the garbage collector's, but they
        // hold slots until it gets to them.
        await DeleteJobsAsync(JobsOfName(image.Metadata.NamespaceProperty, image.Metadata.Name, exceptOwner: uid), cancellationToken).ConfigureAwait(false);

        var jobs = _jobs.ListByOwner(uid).Concat(_scheduler.ReservedFor(uid))
            .DistinctBy(ResourceKeys.For, StringComparer.Ordinal)
            .ToList();
        var now = _time.GetUtcNow().UtcDateTime;
        var plan = PullPlanner.Plan(new PullWorld(image, _selection.For(image, _nodes), jobs, PodOf, now, _known.Remembered(uid), _scheduler.StartingFor(uid), _kubeletErrors.Of));

        var budgeted = StatusBudget.Fit(plan.Status);
        if (!SameStatus(image.Status, budgeted.Status))
        {
            var written = await _api.ReplaceStatusAsync(image with { Status = budgeted.Status }, cancellationToken).ConfigureAwait(false);
            _known.Wrote(key, written, image.Metadata.ResourceVersion, chain: true);
            foreach (var attempt in plan.Finished)
            {
                _metrics.AttemptFinished(attempt);
                _logger.AttemptFinished(key, attempt.Node, attempt.Attempt, attempt.Result);
            }

            if (image.Status?.Phase != budgeted.Status.Phase)
            {
                _logger.PhaseChanged(key, budgeted.Status.Phase);
            }
        }

        _known.Remember(uid, budgeted.Remembered);

        // Before any Job is deleted: a scheduling pass woken by that deletion must find this demand, not an older one.
        // An attempt whose create is still in flight is not asked for again.
        var wanted = plan.Wanted.Where(attempt => !_scheduler.IsReserved(ResourceKeys.For(image.Metadata.NamespaceProperty, PullObjectNames.JobName(
            image.Metadata.NamespaceProperty ?? "", image.Metadata.Name ?? "", attempt.Node, attempt.Attempt)))).ToList();
        _scheduler.SetDemand(new PullDemand(
            key, image.Metadata.CreationTimestamp ?? DateTime.MinValue, wanted, image.Metadata.Labels?.TryGetValue(KwarmApi.WarmupLabel, out var warmup) == true && warmup == "true"));
        if (wanted.Count > 0)
        {
            _scheduling.Request();
        }

        // Only once the outcome is recorded: a Job deleted before a status write that then failed would turn a
        // pulled node into a "disappeared" attempt.
        await DeleteJobsAsync(plan.JobsToDelete, cancellationToken).ConfigureAwait(false);

        _metrics.ReportPhases();

        var wakeAt = plan.WakeAt;
        if (plan.IsFinished && OwnedByDeployment(image) && budgeted.Status.CompletionTime is { } completed)
        {
            var deleteAt = completed + _options.FinishedPrePullImageTtl;
            if (deleteAt <= now && IsOfActiveHold(image))
            {
                // Deleting it would make the hold controller create it again and pull a known-bad image once more: it
                // stays while its hold lasts (at most hold.maxDuration), and the TTL is looked at again after that.
                deleteAt = now + _options.FinishedPrePullImageTtl;
            }

            if (deleteAt <= now)
            {
                _logger.DeletingFinished(key, now - completed);
                await _api.DeletePrePullImageAsync(image.Metadata.NamespaceProperty, image.Metadata.Name, uid, cancellationToken).ConfigureAwait(false);
                return ReconcileResult.Done;
            }

            wakeAt = wakeAt is { } earlier && earlier < deleteAt ? earlier : deleteAt;
        }

        return wakeAt is { } at ? ReconcileResult.After(at > now ? at - now : TimeSpan.Zero) : ReconcileResult.Done;
    }

    /// <summary>
    /// A PrePullImage that cannot be pulled at all (the API server's schema should have refused it: an image reference
    /// or digest a node would refuse with <c>InvalidImageName</c>, a toleration or name a pod cannot carry) is Failed
    /// at once, with <c>Ready=False</c> and the reason naming the fields, and starts no Job; Jobs started for an earlier,
    /// valid spec are deleted. A hold waiting for it is released (or waits, with <c>onFailure: Wait</c>) instead of
    /// waiting for nothing.
    /// </summary>
    private async Task RejectAsync(string key, PrePullImage image, string reason, string problems, CancellationToken cancellationToken)
    {
        _scheduler.RemoveDemand(key);
        var now = PullPlanner.Truncate(_time.GetUtcNow().UtcDateTime);
        var previous = image.Status;
        var previousReady = previous?.Conditions?.FirstOrDefault(condition => condition.Type == PrePullImageStatus.ReadyCondition);
        var status = new PrePullImageStatus
        {
            Phase = PrePullImagePhase.Failed,
            Summary = new PullSummary(),
            Nodes = [],
            StartTime = previous?.StartTime,
            CompletionTime = previous?.CompletionTime ?? now,
            ObservedGeneration = image.Metadata.Generation,
            Conditions =
            [
                new V1Condition
                {
                    Type = PrePullImageStatus.ReadyCondition,
                    Status = "False",
                    Reason = reason,
                    Message = problems,
                    ObservedGeneration = image.Metadata.Generation,
                    LastTransitionTime = previousReady is { Status: "False", LastTransitionTime: { } since } ? since : now,
                },
            ],
        };
        if (!SameStatus(previous, status))
        {
            _logger.InvalidSpec(key, problems);
            var written = await _api.ReplaceStatusAsync(image with { Status = status }, cancellationToken).ConfigureAwait(false);
            _known.Wrote(key, written, image.Metadata.ResourceVersion, chain: false);
        }

        await DeleteJobsAsync(JobsOfName(image.Metadata.NamespaceProperty, image.Metadata.Name ?? "", exceptOwner: null), cancellationToken).ConfigureAwait(false);
        _metrics.ReportPhases();
    }

    /// <summary>Deleting a PrePullImage cancels its pulls: owner GC would too, but only after the object is gone.</summary>
    private async Task CancelAsync(string key, PrePullImage? deleting, CancellationToken cancellationToken)
    {
        _scheduler.RemoveDemand(key);
        _known.Forget(key);
        var (ns, name) = ResourceKeys.Split(key);
        var liveUid = deleting?.Metadata?.DeletionTimestamp is null ? deleting?.Metadata?.Uid : null;
        var orphans = JobsOfName(ns, name, exceptOwner: liveUid);
        if (deleting?.Metadata?.Uid is { } uid)
        {
            _known.ForgetRemembered(uid);
        }

        if (orphans.Count > 0)
        {
            _logger.CancellingJobs(key, orphans.Count);
            await DeleteJobsAsync(orphans, cancellationToken).ConfigureAwait(false);
        }

        _metrics.ReportPhases();
    }

    private async Task DeleteJobsAsync(IEnumerable<V1Job> jobs, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var job in jobs)
        {
            var key = ResourceKeys.For(job);

            // Only Jobs the cache shows. One it no longer shows is gone already: its Deleted event can land while the
            // reconcile that listed it awaits its status write, and deleting again only earns a 404. One it does not
            // show yet (a create still in flight) is deleted when it appears, since its event wakes its owner again.
            if (_jobs.Get(key) is not { } cached)
            {
                _deleteRequested.TryRemove(key, out _);
                continue;
            }

            if (_deleteRequested.TryGetValue(key, out var asked) && asked.Uid == cached.Metadata?.Uid && now - asked.At < DeleteRepeatAfter)
            {
                continue;
            }

            await _api.DeleteJobAsync(job.Metadata!.NamespaceProperty, job.Metadata.Name, cancellationToken).ConfigureAwait(false);
            _deleteRequested[key] = (cached.Metadata?.Uid, now);
        }
    }

    /// <summary>Pull Jobs (found by label) of PrePullImages named <paramref name="name"/> other than <paramref name="exceptOwner"/>.</summary>
    private List<V1Job> JobsOfName(string? ns, string name, string? exceptOwner) =>
        [.. _jobs.ListByLabel(PullObjectNames.PrePullImageLabel, PullObjectNames.LabelValue(name))
            .Where(job => job.Metadata?.NamespaceProperty == ns
                && job.Metadata!.OwnerReferences?.Any(owner => owner.Kind == PrePullImage.KubeKind && owner.Name == name && owner.Uid != exceptOwner) == true)];

    private V1Pod? PodOf(V1Job job) =>
        string.IsNullOrEmpty(job.Metadata?.Uid) ? null : _pods.ListByOwner(job.Metadata.Uid).OrderByDescending(pod => pod.Metadata?.CreationTimestamp).FirstOrDefault();

    /// <summary>
    /// The image belongs to the hold its Deployment is under right now: the owner's <c>kwarm.io/hold</c> annotation
    /// names the image's <c>kwarm.io/hold</c> label.
    /// </summary>
    private bool IsOfActiveHold(PrePullImage image)
    {
        var owner = image.Metadata?.OwnerReferences?.FirstOrDefault(reference => reference.Kind == "Deployment" && reference.ApiVersion == "apps/v1");
        var hold = image.Metadata?.Labels?.TryGetValue(KwarmApi.HoldLabel, out var label) == true ? label : null;
        return owner is not null && hold is not null
            && _deployments?.Get(image.Metadata!.NamespaceProperty ?? "", owner.Name) is { } deployment
            && deployment.Metadata?.Annotations?.TryGetValue(KwarmApi.HoldAnnotation, out var active) == true
            && string.Equals(active, hold, StringComparison.Ordinal);
    }

    private static bool OwnedByDeployment(PrePullImage image) =>
        image.Metadata?.OwnerReferences?.Any(owner => owner.Kind == "Deployment" && owner.ApiVersion == "apps/v1") == true;

    private static bool SameStatus(PrePullImageStatus? current, PrePullImageStatus next) =>
        current is not null && KwarmJson.Serialize(current) == KwarmJson.Serialize(next);
}
