using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Pulling;

/// <summary>Settings of one pull engine, from the host's flags.</summary>
public sealed record PullEngineOptions(int MaxConcurrentPulls, int MaxPullsPerNode, string ToolsImage, TimeSpan FinishedPrePullImageTtl)
{
    /// <summary>Pull Jobs created at once by one scheduling pass.</summary>
    public int CreateParallelism { get; init; } = 8;
}

/// <summary>
/// The pull engine of one leadership term: reconciles one PrePullImage per work-queue key and runs scheduling
/// passes under the <see cref="ScheduleKey"/> (one at a time, since the queue never hands a key to two workers).
/// Everything it decides comes from the caches and the PrePullImage's status; what it keeps in memory
/// (reservations of Jobs being created, deletions already asked for, the last status it wrote) only avoids
/// duplicate work and is rebuilt empty by the next leader.
/// </summary>
public sealed class PullEngine
{
    /// <summary>The work-queue key of a scheduling pass; no object key starts with a NUL.</summary>
    public const string ScheduleKey = "\0schedule";

    /// <summary>The Ready reason of a PrePullImage whose image reference or digest no node would accept.</summary>
    public const string InvalidImageReason = "InvalidImage";

    /// <summary>The Ready reason of a PrePullImage with another value a pull pod cannot carry.</summary>
    public const string InvalidSpecReason = "InvalidSpec";

    private static readonly TimeSpan DeleteRepeatAfter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CreateGraceAfterLeadership = TimeSpan.FromSeconds(10);

    private readonly ResourceCache<PrePullImage> _images;
    private readonly ResourceCache<V1Deployment>? _deployments;
    private readonly ResourceCache<V1Node> _nodes;
    private readonly ResourceCache<V1Job> _jobs;
    private readonly ResourceCache<V1Pod> _pods;
    private readonly IPullApi _api;
    private readonly PullEngineOptions _options;
    private readonly PullJobTemplate _template;
    private readonly KwarmMetrics? _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _deleteRequested = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, WrittenVersions> _lastWritten = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<NodePullStatus>> _remembered = new(StringComparer.Ordinal);
    private readonly KubeletPullErrors _kubeletErrors = new();
    private Action<string> _enqueue = _ => { };
    private Action<string, TimeSpan> _enqueueAfter = (_, _) => { };

    public PullEngine(
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
    {
        ArgumentNullException.ThrowIfNull(options);
        _deployments = deployments;
        _images = images;
        _nodes = nodes;
        _jobs = jobs;
        _pods = pods;
        _api = api;
        _options = options;
        _template = new PullJobTemplate(options.ToolsImage);
        _metrics = metrics;
        _time = timeProvider;
        _logger = logger;
        Scheduler = new PullScheduler(options.MaxConcurrentPulls, options.MaxPullsPerNode, timeProvider);
    }

    public PullScheduler Scheduler { get; }

    /// <summary>Where the engine asks for keys to be looked at (the term's work queue).</summary>
    public void Attach(Action<string> enqueue, Action<string, TimeSpan> enqueueAfter)
    {
        _enqueue = enqueue ?? throw new ArgumentNullException(nameof(enqueue));
        _enqueueAfter = enqueueAfter ?? throw new ArgumentNullException(nameof(enqueueAfter));
    }

    public Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken) =>
        key == ScheduleKey ? ScheduleAsync(cancellationToken) : ReconcileImageAsync(key, cancellationToken);

    // ---- events -------------------------------------------------------------------------------------------

    public void OnImage(ResourceEvent<PrePullImage> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        _enqueue(ResourceKeys.For(change.Resource));
    }

    public void OnJob(ResourceEvent<V1Job> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var key = ResourceKeys.For(change.Resource);
        if (change.Type == ResourceEventType.Deleted)
        {
            Scheduler.Gone(key);
            _deleteRequested.TryRemove(key, out _);
        }
        else
        {
            Scheduler.Observed(key);
        }

        if (OwnerKey(change.Resource) is { } owner)
        {
            _enqueue(owner);
        }

        _metrics?.SetActivePulls(Scheduler.CountActive(PullJobs(), _pods.List()));

        // A slot may have opened (a Job finished or went away).
        if (Scheduler.HasDemand && (change.Type == ResourceEventType.Deleted || !PullScheduler.IsActive(change.Resource)))
        {
            _enqueue(ScheduleKey);
        }
    }

    public void OnPod(ResourceEvent<V1Pod> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        _kubeletErrors.Observe(change);
        var pod = change.Resource;
        var job = PullScheduler.JobKeyOf(pod) is { } jobKey ? _jobs.Get(jobKey) : null;
        if (job is not null && OwnerKey(job) is { } key)
        {
            _enqueue(key);
        }
        else if (pod.Metadata?.Annotations?.TryGetValue(PullObjectNames.PrePullImageAnnotation, out var name) == true && !string.IsNullOrEmpty(name))
        {
            // The Job is not (or no longer) in the cache; the pod names its PrePullImage itself.
            _enqueue(ResourceKeys.For(pod.Metadata.NamespaceProperty, name));
        }

        // The pod of a deleted Job occupies its node until it goes or finishes: that may open a slot. So does a pull
        // that just reported its imageID, without waiting for its Job to be deleted.
        var justPulled = PullScheduler.HasPulled(pod) && (change.Previous is null || !PullScheduler.HasPulled(change.Previous));
        if (Scheduler.HasDemand && ((job is null && (change.Type == ResourceEventType.Deleted || pod.Status?.Phase is "Succeeded" or "Failed"))
            || (change.Type != ResourceEventType.Deleted && justPulled)))
        {
            _enqueue(ScheduleKey);
        }
    }

    /// <summary>
    /// A node that appears, goes, or changes what targeting reads wakes every unfinished PrePullImage. A node that only
    /// lists new images wakes just the unfinished PrePullImages of those references (they may skip it now): every pull
    /// a kubelet finishes changes its node's image list, and waking every PrePullImage for each would make the work
    /// of a pre-pull grow with pulls × PrePullImages and starve the scheduling pass in the queue.
    /// </summary>
    public void OnNode(ResourceEvent<V1Node> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        HashSet<string>? added = null;
        if (change.Type == ResourceEventType.Updated && change.Previous is { } previous)
        {
            if (!TargetingChanged(previous, change.Resource))
            {
                return;
            }

            if (OnlyImagesChanged(previous, change.Resource))
            {
                added = ImageNames(change.Resource).Except(ImageNames(previous), StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
                if (added.Count == 0)
                {
                    // Only removals (garbage-collected images): a node already skipped stays done, one still to pull is pulled anyway.
                    return;
                }
            }
        }

        foreach (var image in _images.List())
        {
            if ((image.Status?.Phase is not (PrePullImagePhase.Completed or PrePullImagePhase.Failed)
                    || image.Status.ObservedGeneration != image.Metadata?.Generation)
                && (added is null || (image.Spec?.Image is not null && IsAmong(image.Spec.PullReference, added))))
            {
                _enqueue(ResourceKeys.For(image));
            }
        }
    }

    // ---- one PrePullImage ---------------------------------------------------------------------------------

    private async Task<ReconcileResult> ReconcileImageAsync(string key, CancellationToken cancellationToken)
    {
        var image = Current(key);
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

        var jobs = _jobs.ListByOwner(uid).Concat(Scheduler.ReservedFor(uid))
            .DistinctBy(ResourceKeys.For, StringComparer.Ordinal)
            .ToList();
        var now = _time.GetUtcNow().UtcDateTime;
        var plan = PullPlanner.Plan(new PullWorld(image, _nodes.List(), jobs, PodOf, now, _remembered.GetValueOrDefault(uid), Scheduler.StartingFor(uid), _kubeletErrors.Of));

        var budgeted = StatusBudget.Fit(plan.Status);
        if (!SameStatus(image.Status, budgeted.Status))
        {
            var updated = image with { Status = budgeted.Status };
            var written = await _api.ReplaceStatusAsync(updated, cancellationToken).ConfigureAwait(false);
            var superseded = _lastWritten.TryGetValue(key, out var earlier) ? earlier.Superseded : [];
            _lastWritten[key] = new WrittenVersions(written, superseded.Add(image.Metadata.ResourceVersion ?? ""));
            foreach (var attempt in plan.Finished)
            {
                _metrics?.PullFinished(attempt.Result, attempt.Duration);
                _logger.AttemptFinished(key, attempt.Node, attempt.Attempt, attempt.Result);
            }

            if (image.Status?.Phase != budgeted.Status.Phase)
            {
                _logger.PhaseChanged(key, budgeted.Status.Phase);
            }
        }

        if (budgeted.Remembered.Count > 0)
        {
            _remembered[uid] = budgeted.Remembered;
        }
        else
        {
            _remembered.TryRemove(uid, out _);
        }

        // Before any Job is deleted: a scheduling pass woken by that deletion must find this demand, not an older one.
        // An attempt whose create is still in flight is not asked for again.
        var wanted = plan.Wanted.Where(attempt => !Scheduler.IsReserved(ResourceKeys.For(image.Metadata.NamespaceProperty, PullObjectNames.JobName(
            image.Metadata.NamespaceProperty ?? "", image.Metadata.Name ?? "", attempt.Node, attempt.Attempt)))).ToList();
        Scheduler.SetDemand(new PullDemand(key, image.Metadata.CreationTimestamp ?? DateTime.MinValue, wanted));
        if (wanted.Count > 0)
        {
            _enqueue(ScheduleKey);
        }

        // Only once the outcome is recorded: a Job deleted before a status write that then failed would turn a
        // pulled node into a "disappeared" attempt.
        await DeleteJobsAsync(plan.JobsToDelete, cancellationToken).ConfigureAwait(false);

        ReportPhases();

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
    /// The cached object, or the one this engine wrote last while the cache still holds a version that this engine's
    /// writes replaced (the watch events are on their way). Planning from such an older status would at best earn a
    /// 409, and at worst, when the older status happens to equal the new plan, ask again for a pull already done.
    /// </summary>
    private PrePullImage? Current(string key)
    {
        var cached = _images.Get(key);
        if (_lastWritten.TryGetValue(key, out var written))
        {
            if (cached is not null && cached.Metadata?.Uid == written.Latest.Metadata?.Uid
                && written.Superseded.Contains(cached.Metadata?.ResourceVersion ?? ""))
            {
                return written.Latest;
            }

            // The cache caught up (or someone else wrote, e.g. a new spec): it is the truth again.
            _lastWritten.TryRemove(key, out _);
        }

        return cached;
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
        Scheduler.RemoveDemand(key);
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
            _lastWritten[key] = new WrittenVersions(written, [image.Metadata.ResourceVersion ?? ""]);
        }

        await DeleteJobsAsync(JobsOfName(image.Metadata.NamespaceProperty, image.Metadata.Name ?? "", exceptOwner: null), cancellationToken).ConfigureAwait(false);
        ReportPhases();
    }

    /// <summary>Deleting a PrePullImage cancels its pulls: owner GC would too, but only after the object is gone.</summary>
    private async Task CancelAsync(string key, PrePullImage? deleting, CancellationToken cancellationToken)
    {
        Scheduler.RemoveDemand(key);
        _lastWritten.TryRemove(key, out _);
        var (ns, name) = ResourceKeys.Split(key);
        var liveUid = deleting?.Metadata?.DeletionTimestamp is null ? deleting?.Metadata?.Uid : null;
        var orphans = JobsOfName(ns, name, exceptOwner: liveUid);
        if (deleting?.Metadata?.Uid is { } uid)
        {
            _remembered.TryRemove(uid, out _);
        }

        if (orphans.Count > 0)
        {
            _logger.CancellingJobs(key, orphans.Count);
            await DeleteJobsAsync(orphans, cancellationToken).ConfigureAwait(false);
        }

        ReportPhases();
    }

    private async Task DeleteJobsAsync(IEnumerable<V1Job> jobs, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var job in jobs)
        {
            var key = ResourceKeys.For(job);
            if (_deleteRequested.TryGetValue(key, out var at) && now - at < DeleteRepeatAfter)
            {
                continue;
            }

            // Only Jobs the cache shows. One it no longer shows is gone already: its Deleted event can land while the
            // reconcile that listed it awaits its status write, and deleting again only earns a 404. One it does not
            // show yet (a create still in flight) is deleted when it appears, since its event wakes its owner again.
            if (_jobs.Get(key) is null)
            {
                continue;
            }

            await _api.DeleteJobAsync(job.Metadata!.NamespaceProperty, job.Metadata.Name, cancellationToken).ConfigureAwait(false);
            _deleteRequested[key] = now;
        }
    }

    // ---- scheduling ---------------------------------------------------------------------------------------

    private async Task<ReconcileResult> ScheduleAsync(CancellationToken cancellationToken)
    {
        var grants = Scheduler.Plan(PullJobs(), _template.Build, _pods.List(), StillWanted);

        // A create already sent is allowed to finish when leadership ends (for a while): abandoned, it could still be
        // committed after the next leader listed the Jobs, and that leader would not count it.
        using var creates = new CancellationTokenSource();
        using var ending = cancellationToken.Register(() => creates.CancelAfter(CreateGraceAfterLeadership));
        using var gate = new SemaphoreSlim(_options.CreateParallelism);
        await Task.WhenAll(grants.Select(async grant =>
        {
            await gate.WaitAsync(creates.Token).ConfigureAwait(false);
            try
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    // Not sent yet: nothing to wait for.
                    Scheduler.Release(ResourceKeys.For(grant.Job));
                    return;
                }

                await CreateAsync(grant.Attempt, grant.Job, creates.Token).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);

        _metrics?.SetActivePulls(Scheduler.CountActive(PullJobs(), _pods.List()));
        return ReconcileResult.Done;
    }

    private async Task CreateAsync(PullAttempt attempt, V1Job job, CancellationToken cancellationToken)
    {
        var key = ResourceKeys.For(job);
        var owner = ResourceKeys.For(attempt.PrePullImage);
        try
        {
            var created = await _api.CreateJobAsync(job, cancellationToken).ConfigureAwait(false);
            Scheduler.Created(key, created);
            _logger.JobStarted(job.Metadata.NamespaceProperty, job.Metadata.Name, attempt.Node, attempt.Attempt);
        }
        catch (ApiConflictException)
        {
            // A Job of this name exists already (a create retried after a timeout, an earlier leader's, or one of an
            // earlier object of the same name on its way out): the reservation holds the slot until the cache shows
            // it, and the planner then judges the Job it finds there by its owner.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Refused (RBAC, quota, an admission policy, an invalid spec) or unreachable: this Job is not tried again
            // before a growing delay, so a refusal never turns into a loop of creates.
            var delay = Scheduler.CreateFailed(key);
            _logger.JobCreateFailed(ApiErrors.IsTransient(ex) ? null : ex, job.Metadata.NamespaceProperty, job.Metadata.Name, ApiErrors.Describe(ex), delay);
            _enqueueAfter(ScheduleKey, delay);
        }

        _enqueue(owner);
    }

    /// <summary>Whether the latest status known here still waits for exactly this attempt of this node.</summary>
    private bool StillWanted(PullAttempt attempt)
    {
        var image = Current(ResourceKeys.For(attempt.PrePullImage));
        if (image?.Metadata is null || image.Metadata.Uid != attempt.PrePullImage.Metadata.Uid || image.Metadata.DeletionTimestamp is not null)
        {
            return false;
        }

        var entry = image.Status?.Nodes?.FirstOrDefault(node => node.Node == attempt.Node)
            ?? _remembered.GetValueOrDefault(image.Metadata.Uid ?? "")?.FirstOrDefault(node => node.Node == attempt.Node);
        return entry is null || (entry.Status == NodePullState.Pending && (entry.RetryCount ?? 0) == attempt.Attempt - 1);
    }

    /// <summary>Pull Jobs (found by label) of PrePullImages named <paramref name="name"/> other than <paramref name="exceptOwner"/>.</summary>
    private List<V1Job> JobsOfName(string? ns, string name, string? exceptOwner) =>
        [.. _jobs.ListByLabel(PullObjectNames.PrePullImageLabel, PullObjectNames.LabelValue(name))
            .Where(job => job.Metadata?.NamespaceProperty == ns
                && job.Metadata!.OwnerReferences?.Any(owner => owner.Kind == PrePullImage.KubeKind && owner.Name == name && owner.Uid != exceptOwner) == true)];

    private List<V1Job> PullJobs() =>
        [.. _jobs.List().Where(job => job.Metadata?.OwnerReferences?.Any(owner => owner.Kind == PrePullImage.KubeKind) == true)];

    // ---- helpers ------------------------------------------------------------------------------------------

    private V1Pod? PodOf(V1Job job) =>
        string.IsNullOrEmpty(job.Metadata?.Uid) ? null : _pods.ListByOwner(job.Metadata.Uid).OrderByDescending(pod => pod.Metadata?.CreationTimestamp).FirstOrDefault();

    private void ReportPhases()
    {
        if (_metrics is null)
        {
            return;
        }

        var counts = Enum.GetValues<PrePullImagePhase>().ToDictionary(phase => phase, _ => 0L);
        foreach (var image in _images.List())
        {
            counts[image.Status?.Phase ?? PrePullImagePhase.Pending]++;
        }

        foreach (var (phase, count) in counts)
        {
            _metrics.SetPrePullImagesByPhase(phase.ToString(), count);
        }
    }

    private static string? OwnerKey(V1Job job)
    {
        var owner = job.Metadata?.OwnerReferences?.FirstOrDefault(reference => reference.Kind == PrePullImage.KubeKind && reference.Controller == true);
        return owner is null ? null : ResourceKeys.For(job.Metadata!.NamespaceProperty, owner.Name);
    }

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

    /// <summary>Whether a node's newly listed image names include the reference, as one image identity.</summary>
    private static bool IsAmong(string reference, HashSet<string> names) =>
        ImageIdentity.TryParse(reference, out var identity, out _) ? identity.IsListedIn(names) : names.Contains(reference);

    private static bool OwnedByDeployment(PrePullImage image) =>
        image.Metadata?.OwnerReferences?.Any(owner => owner.Kind == "Deployment" && owner.ApiVersion == "apps/v1") == true;

    private static bool SameStatus(PrePullImageStatus? current, PrePullImageStatus next) =>
        current is not null && KwarmJson.Serialize(current) == KwarmJson.Serialize(next);

    /// <summary>The last status this engine wrote for an object, and the resourceVersions it made obsolete.</summary>
    private sealed record WrittenVersions(PrePullImage Latest, System.Collections.Immutable.ImmutableHashSet<string> Superseded);

    private static bool TargetingChanged(V1Node before, V1Node after) =>
        NodeEligibility.IsReady(before) != NodeEligibility.IsReady(after)
        || before.Spec?.Unschedulable != after.Spec?.Unschedulable
        || !Taints(before).SequenceEqual(Taints(after))
        || !Labels(before).SequenceEqual(Labels(after))
        || !ImageNames(before).SequenceEqual(ImageNames(after), StringComparer.Ordinal);

    private static bool OnlyImagesChanged(V1Node before, V1Node after) =>
        NodeEligibility.IsReady(before) == NodeEligibility.IsReady(after)
        && before.Spec?.Unschedulable == after.Spec?.Unschedulable
        && Taints(before).SequenceEqual(Taints(after))
        && Labels(before).SequenceEqual(Labels(after));

    private static IEnumerable<(string? Key, string? Value, string? Effect)> Taints(V1Node node) =>
        (node.Spec?.Taints ?? []).Select(taint => ((string?)taint.Key, (string?)taint.Value, (string?)taint.Effect));

    private static IEnumerable<KeyValuePair<string, string>> Labels(V1Node node) =>
        (node.Metadata?.Labels ?? new Dictionary<string, string>()).OrderBy(label => label.Key, StringComparer.Ordinal);

    private static IEnumerable<string> ImageNames(V1Node node) =>
        (node.Status?.Images ?? []).SelectMany(image => image.Names ?? []);
}
