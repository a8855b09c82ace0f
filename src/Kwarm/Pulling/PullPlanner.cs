using System.Globalization;
using k8s.Models;
using Kwarm.Observability;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// The pure decision of the pull engine for one PrePullImage: from its status (the durable record of attempts),
/// its Jobs and pods, and the nodes, the next status, the Jobs to delete and the attempts that may start.
/// Nothing is remembered between calls, so a restarted or newly elected Kwarm continues where the last one stopped.
/// </summary>
public static class PullPlanner
{
    public static PullPlan Plan(PullWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        var image = world.PrePullImage;
        var spec = image.Spec;
        var now = Truncate(world.Now);
        var previous = image.Status;
        var previousEntries = new Dictionary<string, NodePullStatus>(StringComparer.Ordinal);
        foreach (var entry in previous?.Nodes ?? [])
        {
            previousEntries.TryAdd(entry.Node, entry);
        }

        foreach (var entry in world.Remembered ?? [])
        {
            if (!previousEntries.TryGetValue(entry.Node, out var listed)
                || (listed.Status == entry.Status && listed.JobName == entry.JobName && (listed.RetryCount is null || listed.RetryCount == entry.RetryCount)))
            {
                previousEntries[entry.Node] = entry;
            }
        }

        var toDelete = new List<V1Job>();
        var liveJobs = new Dictionary<string, (V1Job Job, int Attempt)>(StringComparer.Ordinal);
        foreach (var job in world.Jobs)
        {
            var node = NodeOf(job);
            var attempt = AttemptOf(job);
            if (node is null || attempt is null)
            {
                toDelete.Add(job);
                continue;
            }

            previousEntries.TryGetValue(node, out var entry);
            if (ImageOf(job) is { } pulling && !string.Equals(pulling, spec.PullReference, StringComparison.Ordinal))
            {
                // Started for an earlier spec (the image was changed in place): its outcome says nothing about this one.
                toDelete.Add(job);
                continue;
            }

            if (!IsLiveAttempt(entry, attempt.Value) || (liveJobs.TryGetValue(node, out var other) && other.Attempt >= attempt.Value))
            {
                // Already recorded (its deletion may not have reached the cache yet), or superseded.
                toDelete.Add(job);
                continue;
            }

            if (liveJobs.TryGetValue(node, out var superseded))
            {
                toDelete.Add(superseded.Job);
            }

            liveJobs[node] = (job, attempt.Value);
        }

        var generation = image.Metadata?.Generation;
        var frozen = previous?.Phase is PrePullImagePhase.Completed or PrePullImagePhase.Failed
            && (generation is null || previous.ObservedGeneration == generation);

        // Only the targets are kept: at 5,000 nodes a dictionary of every node, built on every reconcile of every
        // PrePullImage, was most of what a small PrePullImage's reconcile allocated.
        var targets = new Dictionary<string, V1Node>(StringComparer.Ordinal);
        foreach (var node in world.Nodes)
        {
            var name = node.Metadata?.Name;
            if (string.IsNullOrEmpty(name))
            {
                continue;
            }

            if (NodeEligibility.Judge(spec, node) == NodeVerdict.Target)
            {
                targets[name] = node;
            }
        }

        var retry = spec.EffectiveRetry;
        var timeout = spec.EffectiveTimeout;
        var reference = spec.PullReference;
        var identity = ImageIdentity.TryParse(reference, out var parsed, out _) ? parsed : null;
        // A mutable tag pulled with Always may point at new content: its presence on a node proves nothing.
        var presenceCounts = !(spec.ImagePullPolicy == ImagePullPolicy.Always && string.IsNullOrEmpty(spec.ImageDigest));

        var entries = new List<NodePullStatus>();
        var wanted = new List<PullAttempt>();
        var finished = new List<FinishedAttempt>();
        DateTime? wakeAt = null;
        void WakeAt(DateTime at) => wakeAt = wakeAt is { } current && current <= at ? current : at;

        var names = frozen
            ? previousEntries.Keys.Concat(liveJobs.Keys).Distinct(StringComparer.Ordinal)
            : previousEntries.Keys.Concat(liveJobs.Keys).Concat(targets.Keys).Distinct(StringComparer.Ordinal);
        foreach (var name in names.Order(StringComparer.Ordinal))
        {
            previousEntries.TryGetValue(name, out var entry);
            if (liveJobs.TryGetValue(name, out var live))
            {
                var (job, attempt) = live;
                var start = Truncate(job.Metadata?.CreationTimestamp ?? entry?.StartedAt ?? now);
                var pod = world.PodOf(job);
                var outcome = PullAttemptObserver.Observe(
                    job, pod, start, timeout, world.Now, world.EarlierError is { } earlier && pod is not null ? container => earlier(pod, container) : null);
                switch (outcome.State)
                {
                    case AttemptState.Running:
                        entries.Add(new NodePullStatus
                        {
                            Node = name,
                            Status = NodePullState.Pulling,
                            StartedAt = start,
                            RetryCount = attempt - 1,
                            Error = entry?.Error,
                            JobName = job.Metadata?.Name,
                        });
                        WakeAt(start + timeout + PullAttemptObserver.DeadlineGrace);
                        break;
                    case AttemptState.Pulled:
                        var pulledAt = Truncate(outcome.PulledAt is { } at && at >= start ? at : now);
                        entries.Add(new NodePullStatus
                        {
                            Node = name,
                            Status = NodePullState.Completed,
                            StartedAt = start,
                            CompletedAt = pulledAt,
                            Duration = GoDuration.Format(pulledAt - start),
                            RetryCount = attempt - 1,
                        });
                        finished.Add(new FinishedAttempt(name, attempt, KwarmMetrics.PullResults.Pulled, pulledAt - start));
                        toDelete.Add(job);
                        break;
                    default:
                        toDelete.Add(job);
                        // kwarm_pull_duration_seconds measures pulls that put the image on the node: no duration here.
                        finished.Add(new FinishedAttempt(
                            name, attempt, outcome.State == AttemptState.TimedOut ? KwarmMetrics.PullResults.TimedOut : KwarmMetrics.PullResults.Failed, null));
                        entries.Add(AfterFailure(name, attempt, start, outcome.Error, now, retry));
                        break;
                }

                continue;
            }

            if (entry?.Status is NodePullState.Completed or NodePullState.Skipped or NodePullState.Failed)
            {
                entries.Add(entry);
                continue;
            }

            if (entry?.Status == NodePullState.Pulling)
            {
                // The status names an attempt whose Job no longer exists (deleted by someone, or by its TTL while
                // no Kwarm was running): that attempt is lost; count it as failed so retries stay bounded.
                var attempt = (entry.RetryCount ?? 0) + 1;
                var start = entry.StartedAt ?? now;
                finished.Add(new FinishedAttempt(name, attempt, KwarmMetrics.PullResults.Failed, null));
                entries.Add(AfterFailure(
                    name, attempt, start, $"the pull Job {entry.JobName} disappeared before the image was reported", now, retry));
                continue;
            }

            if (frozen || !targets.TryGetValue(name, out var targetNode))
            {
                // Not (or no longer) a target, and nothing in flight: forget it.
                continue;
            }

            if (world.Starting?.Contains(name) == true)
            {
                // Its Job is being created: neither ask for it again nor call the node's image (maybe that very pull) "already there".
                entries.Add(entry ?? new NodePullStatus { Node = name, Status = NodePullState.Pending });
                continue;
            }

            if (presenceCounts && NodeEligibility.HasImage(targetNode, identity, reference))
            {
                entries.Add(new NodePullStatus { Node = name, Status = NodePullState.Skipped, CompletedAt = now });
                continue;
            }

            var failures = entry?.RetryCount ?? 0;
            var pending = new NodePullStatus { Node = name, Status = NodePullState.Pending, RetryCount = failures == 0 ? null : failures, Error = entry?.Error, StartedAt = entry?.StartedAt, CompletedAt = entry?.CompletedAt };
            entries.Add(pending);
            // completedAt has whole seconds (rounded down): a second more keeps the backoff from ever being shorter.
            var readyAt = failures > 0 && entry?.CompletedAt is { } failedAt ? failedAt + retry.DelayBeforeAttempt(failures + 1) + TimeSpan.FromSeconds(1) : now;
            if (readyAt <= now)
            {
                wanted.Add(new PullAttempt(image, name, failures + 1));
            }
            else
            {
                WakeAt(readyAt);
            }
        }

        var status = Summarize(previous, entries, generation, now, frozen);
        return new PullPlan(status, toDelete, wanted, wakeAt, finished);
    }

    /// <summary>The node that a pull Job serves, from its annotation.</summary>
    public static string? NodeOf(V1Job job) =>
        job.Metadata?.Annotations?.TryGetValue(PullObjectNames.NodeAnnotation, out var node) == true && !string.IsNullOrEmpty(node) ? node : null;

    /// <summary>The reference the Job's pull container pulls.</summary>
    public static string? ImageOf(V1Job job) =>
        job.Spec?.Template?.Spec?.Containers?.FirstOrDefault(container => container.Name == PullJobTemplate.PullContainer)?.Image;

    public static int? AttemptOf(V1Job job) =>
        job.Metadata?.Annotations?.TryGetValue(PullObjectNames.AttemptAnnotation, out var text) == true
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) && attempt >= 1
            ? attempt
            : null;

    /// <summary>API times have whole seconds: keeping more would make every re-read status look changed.</summary>
    public static DateTime Truncate(DateTime time)
    {
        var utc = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;
        return new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
    }

    /// <summary>
    /// Whether attempt <paramref name="attempt"/> is still to be judged: the entry is not final and has not yet
    /// recorded that attempt's failure (<c>retryCount</c> of a Pending node counts failed attempts).
    /// </summary>
    private static bool IsLiveAttempt(NodePullStatus? entry, int attempt) => entry?.Status switch
    {
        null => true,
        NodePullState.Completed or NodePullState.Skipped or NodePullState.Failed => false,
        NodePullState.Pending => attempt > (entry.RetryCount ?? 0),
        _ => attempt > (entry.RetryCount ?? 0),
    };

    /// <summary>
    /// A failed attempt: retried (Pending, <c>completedAt</c> = when it failed, which starts the backoff) until
    /// <c>maxAttempts</c> attempts were made, then Failed for good. <c>retryCount</c> is always the number of failed
    /// attempts so far (the CRD's meaning).
    /// </summary>
    private static NodePullStatus AfterFailure(string node, int attempt, DateTime start, string? error, DateTime now, RetrySpec retry) =>
        attempt >= retry.EffectiveMaxAttempts
            ? new NodePullStatus { Node = node, Status = NodePullState.Failed, StartedAt = start, CompletedAt = now, Error = error, RetryCount = attempt }
            : new NodePullStatus { Node = node, Status = NodePullState.Pending, StartedAt = start, CompletedAt = now, Error = error, RetryCount = attempt };

    private static PrePullImageStatus Summarize(PrePullImageStatus? previous, List<NodePullStatus> entries, long? generation, DateTime now, bool frozen)
    {
        var summary = new PullSummary
        {
            Total = entries.Count,
            Pending = entries.Count(entry => entry.Status == NodePullState.Pending),
            Pulling = entries.Count(entry => entry.Status == NodePullState.Pulling),
            Completed = entries.Count(entry => entry.Status == NodePullState.Completed),
            Skipped = entries.Count(entry => entry.Status == NodePullState.Skipped),
            Failed = entries.Count(entry => entry.Status == NodePullState.Failed),
        };
        var done = summary.Pending == 0 && summary.Pulling == 0;
        var started = summary.Total > summary.Pending || entries.Any(entry => entry.RetryCount > 0);
        var phase = done
            ? (summary.Failed > 0 ? PrePullImagePhase.Failed : PrePullImagePhase.Completed)
            : (started ? PrePullImagePhase.InProgress : PrePullImagePhase.Pending);
        if (frozen && previous?.Phase is { } frozenPhase)
        {
            phase = frozenPhase;
        }

        var startTime = previous?.StartTime ?? (phase == PrePullImagePhase.Pending ? null : (DateTime?)now);
        var completionTime = done ? previous?.CompletionTime ?? now : (DateTime?)null;
        var (conditionStatus, reason) = phase switch
        {
            PrePullImagePhase.Completed when summary.Total == 0 => ("True", "NoTargetNodes"),
            PrePullImagePhase.Completed => ("True", "Pulled"),
            PrePullImagePhase.Failed => ("True", "PullFailed"),
            PrePullImagePhase.InProgress => ("False", "Pulling"),
            _ => ("False", "Pending"),
        };
        var message = summary.Total == 0
            ? "no node is a target (selected, Ready, schedulable, taints tolerated, linux)"
            : $"{summary.Completed + summary.Skipped + summary.Failed} of {summary.Total} nodes done: {summary.Completed} pulled, {summary.Skipped} already present, {summary.Failed} failed";
        var previousReady = previous?.Conditions?.FirstOrDefault(condition => condition.Type == PrePullImageStatus.ReadyCondition);
        var transition = previousReady is not null && previousReady.Status == conditionStatus && previousReady.LastTransitionTime is { } last ? last : now;

        return new PrePullImageStatus
        {
            Phase = phase,
            Summary = summary,
            Nodes = entries,
            StartTime = startTime,
            CompletionTime = completionTime,
            ObservedGeneration = generation ?? previous?.ObservedGeneration,
            Conditions =
            [
                new V1Condition
                {
                    Type = PrePullImageStatus.ReadyCondition,
                    Status = conditionStatus,
                    Reason = reason,
                    Message = message,
                    LastTransitionTime = transition,
                    ObservedGeneration = generation,
                },
            ],
        };
    }
}
