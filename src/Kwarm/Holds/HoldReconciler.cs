using System.Collections.Concurrent;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Kwarm.Workloads;
using Microsoft.Extensions.Logging;

namespace Kwarm.Holds;

/// <summary>
/// One reconcile of one workload key — a Deployment, StatefulSet or DaemonSet (<see cref="WorkloadKeys"/>; DESIGN §5,
/// "Hold controller", and §10). Stateless across restarts: everything it
/// acts on is read from the caches — the hold id and policy from the workload's annotations, the hold's start from
/// the <c>kwarm.io/hold-started</c> annotation it writes on first sight of the hold — and every object it writes has a
/// deterministic name, so a new leader picks up where the old one stopped and the deadline never moves. What it keeps
/// in memory (events recorded, starts written that the watch has not delivered yet) only saves API calls.
/// </summary>
public sealed class HoldReconciler
{
    /// <summary>How soon to look again after the API server refused a release because the workload changed.</summary>
    public static readonly TimeSpan RefusedReleaseRetry = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan EventWriteLimit = TimeSpan.FromSeconds(10);

    private readonly HoldControllerContext _context;
    private readonly IHoldApi _api;
    private readonly KwarmMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _recordedEvents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, HoldStart> _writtenStarts = new(StringComparer.Ordinal);

    public HoldReconciler(HoldControllerContext context, IHoldApi api, KwarmMetrics metrics, TimeProvider time, ILogger<HoldReconciler> logger)
    {
        _context = context;
        _api = api;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (kind, cacheKey) = WorkloadKeys.Parse(key);
        var (@namespace, name) = ResourceKeys.Split(cacheKey);
        if (@namespace is null)
        {
            return ReconcileResult.Done;
        }

        var workload = _context.Get(kind, cacheKey);
        var owned = _context.PrePullImages.ListInNamespace(@namespace).Where(image => PrePullImagePlanner.BelongsTo(image, kind, name)).ToList();
        if (workload is null || workload.Metadata.DeletionTimestamp is not null)
        {
            // Owner garbage collection would remove them too, but only once the workload is really gone and only
            // for those whose owner UID matches: deleting by label leaves nothing behind either way.
            await DeleteAsync(owned, key, $"of a deleted {kind}", cancellationToken).ConfigureAwait(false);
            _recordedEvents.TryRemove(key, out _);
            _writtenStarts.TryRemove(key, out _);
            return ReconcileResult.Done;
        }

        var annotations = workload.Metadata.Annotations ?? new Dictionary<string, string>();
        if (!annotations.TryGetValue(KwarmApi.HoldAnnotation, out var holdId) || string.IsNullOrEmpty(holdId))
        {
            _writtenStarts.TryRemove(key, out _);
            if (await ForgetEndedHoldAsync(workload, cancellationToken).ConfigureAwait(false) is { } retry)
            {
                return retry;
            }

            await ReconcileWithoutHoldAsync(workload, owned, cancellationToken).ConfigureAwait(false);
            _recordedEvents.TryRemove(key, out _);
            return ReconcileResult.Done;
        }

        await DeleteAsync(owned.Where(image => !IsOfHold(image, holdId)), key, "superseded by hold " + holdId, cancellationToken).ConfigureAwait(false);
        var current = owned.Where(image => IsOfHold(image, holdId)).ToList();
        var now = _time.GetUtcNow();

        var start = KnownStart(key, workload, holdId);
        if (start is null)
        {
            start = await RecordStartAsync(workload, holdId, current, now, cancellationToken).ConfigureAwait(false);
            if (start is null)
            {
                return ReconcileResult.After(RefusedReleaseRetry);
            }
        }

        var policyName = annotations.ValueOf(KwarmApi.PolicyAnnotation);
        var policy = string.IsNullOrEmpty(policyName) ? null : _context.Policies.Get(policyName);
        var serviceAccount = _context.ServiceAccounts.Get(@namespace, PrePullImagePlanner.ServiceAccountName(workload));
        var planned = policy is null ? [] : PrePullImagePlanner.Plan(workload, holdId, policy.Spec, serviceAccount);
        var desired = planned.Where(IsPullable).ToList();
        var unpullable = planned.Where(image => !IsPullable(image)).ToList();
        var verdict = HoldVerdict.Decide(workload, policy, current, [.. desired.Select(image => image.Metadata.Name)], start.At, now, unpullable.Count);

        await RecordFailuresAsync(workload, start, current, cancellationToken).ConfigureAwait(false);
        await RecordUnpullableAsync(workload, start, unpullable, cancellationToken).ConfigureAwait(false);
        if (verdict.Reason is { } reason)
        {
            return await ReleaseAsync(workload, start, reason, verdict.Detail, now - start.At, cancellationToken).ConfigureAwait(false);
        }

        // PrePullImages deleted by hand come back: the pulls start again, and the deadline, kept on the workload,
        // does not move.
        var existing = current.Select(image => image.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var image in desired.Where(image => !existing.Contains(image.Metadata.Name)))
        {
            await _api.CreatePrePullImageAsync(image, cancellationToken).ConfigureAwait(false);
        }

        var maxDuration = policy!.Spec.EffectiveHold.EffectiveMaxDuration;
        if (await RecordAsync(workload, HoldEvents.Started(workload, start, desired.Count, policyName!, maxDuration, now.UtcDateTime, _context.Instance), cancellationToken)
            .ConfigureAwait(false))
        {
            _logger.Holding(key, holdId, desired.Count, verdict.Until);
        }

        var wait = verdict.Until - now;
        return ReconcileResult.After(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    /// <summary>
    /// The recorded start of this hold: the workload's <c>kwarm.io/hold-started</c> when it names this hold, else
    /// the one this process wrote and the watch has not delivered yet (writing it again would move the deadline).
    /// </summary>
    private HoldStart? KnownStart(string key, WorkloadObject workload, string holdId)
    {
        if (HoldStart.Parse(workload.Metadata.Annotations.ValueOf(KwarmApi.HoldStartedAnnotation)) is { } recorded
            && string.Equals(recorded.HoldId, holdId, StringComparison.Ordinal))
        {
            return recorded;
        }

        return _writtenStarts.TryGetValue(key, out var written) && string.Equals(written.HoldId, holdId, StringComparison.Ordinal) ? written : null;
    }

    /// <summary>
    /// First sight of a hold: a start record naming another hold means that hold was superseded by an image change
    /// (its HoldStarted gets its HoldReleased now); then this hold's start is written on the workload. Null when the
    /// write was refused (the hold changed meanwhile).
    /// </summary>
    private async Task<HoldStart?> RecordStartAsync(
        WorkloadObject workload, string holdId, IReadOnlyList<PrePullImage> current, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = workload.Key;
        var previous = HoldStart.Parse(workload.Metadata.Annotations.ValueOf(KwarmApi.HoldStartedAnnotation));
        if (previous is not null)
        {
            _metrics.HoldReleased(nameof(ReleaseReason.Superseded), workload.Kind, Positive(now - previous.At));
            await RecordAsync(workload, HoldEvents.Released(workload, previous, ReleaseReason.Superseded,
                $"the images changed during the hold; hold {holdId} replaces it", now.UtcDateTime, _context.Instance), cancellationToken).ConfigureAwait(false);
        }

        // A hold placed by a Kwarm that did not record starts yet: its PrePullImages were created at its first sight.
        var start = HoldStart.Of(holdId, previous is null ? OldestCreation(current) ?? now : now);
        if (!await _api.PatchWorkloadAsync(workload.Kind, workload.Metadata.NamespaceProperty, workload.Metadata.Name, HoldReleasePatch.RecordStart(start), cancellationToken)
            .ConfigureAwait(false))
        {
            _logger.ReleaseRefused(key, holdId);
            return null;
        }

        _writtenStarts[key] = start;
        return start;
    }

    /// <summary>
    /// A start record without a hold: Kwarm released the hold and the cache had not shown the record yet (nothing to
    /// say), or a person removed <c>kwarm.io/hold</c> by hand, which ends the hold as surely as a release (its
    /// HoldReleased is recorded, reason Released). The record is removed either way.
    /// </summary>
    private async Task<ReconcileResult?> ForgetEndedHoldAsync(WorkloadObject workload, CancellationToken cancellationToken)
    {
        var annotations = workload.Metadata.Annotations;
        var text = annotations.ValueOf(KwarmApi.HoldStartedAnnotation);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var recorded = HoldStart.Parse(text);
        if (recorded is not null && !string.Equals(annotations.ValueOf(KwarmApi.ReleasedAnnotation), recorded.HoldId, StringComparison.Ordinal))
        {
            var now = _time.GetUtcNow();
            _metrics.HoldReleased(nameof(ReleaseReason.Released), workload.Kind, Positive(now - recorded.At));
            await RecordAsync(workload, HoldEvents.Released(workload, recorded, ReleaseReason.Released,
                $"the {KwarmApi.HoldAnnotation} annotation was removed", now.UtcDateTime, _context.Instance), cancellationToken).ConfigureAwait(false);
        }

        return await _api.PatchWorkloadAsync(workload.Kind, workload.Metadata.NamespaceProperty, workload.Metadata.Name, HoldReleasePatch.ForgetStart(text), cancellationToken)
            .ConfigureAwait(false)
            ? null
            : ReconcileResult.After(RefusedReleaseRetry);
    }

    private static TimeSpan Positive(TimeSpan duration) => duration < TimeSpan.Zero ? TimeSpan.Zero : duration;

    /// <summary>
    /// No active hold. The released hold's PrePullImages, and those of the current pod template, stay until the pull
    /// engine's TTL; any other are leftovers (superseded, or a hold whose annotation someone removed) and would only
    /// keep nodes busy. Under a policy with <c>hold.enabled: false</c>, and for a StatefulSet or DaemonSet with the user's
    /// own OnDelete strategy, an update rollout in progress (old pods still running) gets the template's images pre-pulled
    /// without a hold: the rollout's later waves (or the user's next deletions) find them warm.
    /// </summary>
    private async Task ReconcileWithoutHoldAsync(WorkloadObject workload, IReadOnlyList<PrePullImage> owned, CancellationToken cancellationToken)
    {
        var metadata = workload.Metadata;
        var key = workload.Key;
        var released = metadata.Annotations.ValueOf(KwarmApi.ReleasedAnnotation);
        var images = PrePullImagePlanner.Images(workload);
        var current = images.Count > 0 ? HoldId.For(images) : null;
        await DeleteAsync(owned.Where(image => !IsOfHold(image, released) && !IsOfHold(image, current)), key, "not active", cancellationToken)
            .ConfigureAwait(false);

        if (current is null || metadata.Annotations.ValueOf(KwarmApi.SkipAnnotation) == "true" || !workload.IsUpdateRolloutInProgress
            || PolicyMatcher.Select(_context.Policies.List(), workload.Kind, metadata.NamespaceProperty, metadata.Labels) is not { } policy
            || (policy.Spec.EffectiveHold.EffectiveEnabled && !workload.UsesOwnOnDelete))
        {
            return;
        }

        var existing = owned.Where(image => IsOfHold(image, current)).Select(image => image.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var serviceAccount = _context.ServiceAccounts.Get(metadata.NamespaceProperty, PrePullImagePlanner.ServiceAccountName(workload));
        foreach (var image in PrePullImagePlanner.Plan(workload, current, policy.Spec, serviceAccount).Where(image => IsPullable(image) && !existing.Contains(image.Metadata.Name)))
        {
            await _api.CreatePrePullImageAsync(image, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Old pods still run next to the current template's: an image change is rolling out. A new Deployment or a scale-up
    /// only has pods of the current template, so neither counts.
    /// </summary>
    public static bool IsUpdateRolloutInProgress(V1Deployment deployment) =>
        deployment is not null && WorkloadObject.Of(deployment).IsUpdateRolloutInProgress;

    /// <summary>
    /// When a hold placed before Kwarm recorded starts began: the oldest creation time of its PrePullImages (created on
    /// first sight of the hold). Only for that upgrade case; every other hold's start is its <c>kwarm.io/hold-started</c>.
    /// </summary>
    public static DateTimeOffset? OldestCreation(IEnumerable<PrePullImage> images) =>
        images.Select(image => image.Metadata?.CreationTimestamp).OfType<DateTime>()
            .Select(created => (DateTimeOffset?)new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)))
            .Min();

    private async Task<ReconcileResult> ReleaseAsync(
        WorkloadObject workload, HoldStart start, ReleaseReason reason, string detail, TimeSpan heldFor, CancellationToken cancellationToken)
    {
        var key = workload.Key;
        var holdId = start.HoldId;
        var plan = HoldReleasePatch.For(workload, holdId, startRecorded: _writtenStarts.ContainsKey(key));
        if (!await _api.PatchWorkloadAsync(workload.Kind, workload.Metadata.NamespaceProperty, workload.Metadata.Name, plan.Patch, cancellationToken).ConfigureAwait(false))
        {
            // The test on the hold id failed (a newer hold, or the hold already released) or the object moved on:
            // the watch brings the new state, and the next reconcile decides from it.
            _logger.ReleaseRefused(key, holdId);
            return ReconcileResult.After(RefusedReleaseRetry);
        }

        _writtenStarts.TryRemove(key, out _);
        if (workload.HoldEngaged && workload.KeepsPaused)
        {
            detail += $"; the rollout stays paused as {KwarmApi.KeepPausedAnnotation} asks (kubectl rollout resume starts it)";
        }

        _metrics.HoldReleased(reason.ToString(), workload.Kind, Positive(heldFor));
        _logger.Released(key, holdId, heldFor, reason, detail);
        // The release is done and no later reconcile will see this hold again: its event must be written even when
        // leadership or the process is ending right now, within a bound of its own.
        using var eventDeadline = new CancellationTokenSource(EventWriteLimit, _time);
        await RecordAsync(workload, HoldEvents.Released(workload, start, reason, detail, _time.GetUtcNow().UtcDateTime, _context.Instance), eventDeadline.Token)
            .ConfigureAwait(false);
        if (plan.RestoredDefault is { } restored)
        {
            await RecordAsync(workload, HoldEvents.DefaultRestoredOn(workload, start, restored, _time.GetUtcNow().UtcDateTime, _context.Instance), eventDeadline.Token)
                .ConfigureAwait(false);
        }

        _recordedEvents.TryRemove(key, out _);
        return ReconcileResult.Done;
    }

    private async Task RecordFailuresAsync(WorkloadObject workload, HoldStart start, IEnumerable<PrePullImage> images, CancellationToken cancellationToken)
    {
        foreach (var image in images.Where(image => image.Status?.Phase == PrePullImagePhase.Failed))
        {
            var failedNodes = image.Status!.Nodes?.Where(node => node.Status == NodePullState.Failed).ToList() ?? [];
            var firstError = failedNodes.FirstOrDefault(node => !string.IsNullOrEmpty(node.Error));
            var total = image.Status.Summary?.Total ?? image.Status.Nodes?.Count ?? 0;
            var message = firstError is null
                ? $"{image.Status.Summary?.Failed ?? failedNodes.Count} of {total} node(s) failed"
                : $"{image.Status.Summary?.Failed ?? failedNodes.Count} of {total} node(s) failed; node {firstError.Node}: {firstError.Error}";
            await RecordAsync(workload, HoldEvents.Failed(workload, start, image.Spec.Image, message, _time.GetUtcNow().UtcDateTime, _context.Instance), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A planned PrePullImage the pull engine would fail at once (an image reference no node accepts, say <c>nginx:</c>,
    /// which the API server takes in a workload but the kubelet refuses with <c>InvalidImageName</c>) is not created:
    /// the CRD's schema refuses it, and a create that always fails would leave the hold without a start time. It
    /// counts as a failed image instead (<see cref="HoldVerdict.Decide"/>), with a <c>PullFailed</c> event saying why.
    /// </summary>
    private static bool IsPullable(PrePullImage image) => image.Spec.BlockingProblems().Count == 0;

    private async Task RecordUnpullableAsync(WorkloadObject workload, HoldStart start, IEnumerable<PrePullImage> images, CancellationToken cancellationToken)
    {
        foreach (var image in images)
        {
            var message = "it cannot be pulled: " + string.Join("; ", image.Spec.BlockingProblems());
            await RecordAsync(workload, HoldEvents.Failed(workload, start, image.Spec.Image, message, _time.GetUtcNow().UtcDateTime, _context.Instance), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Creates the event unless this process or an earlier one already did; true when it was created now.</summary>
    private async Task<bool> RecordAsync(WorkloadObject workload, Corev1Event hookEvent, CancellationToken cancellationToken)
    {
        var key = workload.Key;
        var recorded = _recordedEvents.GetOrAdd(key, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal));
        if (!recorded.TryAdd(hookEvent.Metadata.Name, true))
        {
            return false;
        }

        try
        {
            return await _api.CreateEventAsync(hookEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Events are for people: losing one must never stall a hold or a release (a cancelled reconcile notices
            // its token at its next API call).
            recorded.TryRemove(hookEvent.Metadata.Name, out _);
            _logger.EventFailed(exception, hookEvent.Reason, key);
            return false;
        }
    }

    private async Task DeleteAsync(IEnumerable<PrePullImage> images, string workload, string why, CancellationToken cancellationToken)
    {
        foreach (var image in images.Where(image => image.Metadata.DeletionTimestamp is null))
        {
            var hold = image.Metadata.Labels?.ValueOf(KwarmApi.HoldLabel) ?? "";
            _logger.DeletingPrePullImage(image.Metadata.NamespaceProperty, image.Metadata.Name, workload, hold, why);
            await _api.DeletePrePullImageAsync(image.Metadata.NamespaceProperty, image.Metadata.Name, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsOfHold(PrePullImage image, string? holdId) =>
        holdId is not null && string.Equals(image.Metadata.Labels?.ValueOf(KwarmApi.HoldLabel), holdId, StringComparison.Ordinal);
}
