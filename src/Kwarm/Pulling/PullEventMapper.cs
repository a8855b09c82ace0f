using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// Maps the informers' events to work: the keys of the PrePullImages to reconcile (through the term's PrePullImage
/// queue), a scheduling pass when a slot may have opened (through the <see cref="PullSchedulingTrigger"/>), and the
/// facts the scheduler and the planner keep from events alone (a Job seen or gone, the kubelet's pull errors).
/// </summary>
public sealed class PullEventMapper
{
    private readonly ResourceCache<PrePullImage> _images;
    private readonly ResourceCache<V1Job> _jobs;
    private readonly PullScheduler _scheduler;
    private readonly PullSchedulingTrigger _scheduling;
    private readonly KubeletPullErrors _kubeletErrors;
    private readonly PullMetrics _metrics;
    private readonly Action<string> _enqueueImage;
    private readonly NodeSelection? _selection;

    public PullEventMapper(
        ResourceCache<PrePullImage> images,
        ResourceCache<V1Job> jobs,
        PullScheduler scheduler,
        PullSchedulingTrigger scheduling,
        KubeletPullErrors kubeletErrors,
        PullMetrics metrics,
        Action<string> enqueueImage,
        NodeSelection? selection = null)
    {
        _selection = selection;
        _images = images;
        _jobs = jobs;
        _scheduler = scheduler;
        _scheduling = scheduling;
        _kubeletErrors = kubeletErrors;
        _metrics = metrics;
        _enqueueImage = enqueueImage ?? throw new ArgumentNullException(nameof(enqueueImage));
    }

    public void OnImage(ResourceEvent<PrePullImage> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Type == ResourceEventType.Deleted)
        {
            _selection?.Forget(change.Resource.Metadata?.Uid);
        }

        _enqueueImage(ResourceKeys.For(change.Resource));
    }

    public void OnJob(ResourceEvent<V1Job> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var key = ResourceKeys.For(change.Resource);
        if (change.Type == ResourceEventType.Deleted)
        {
            _scheduler.Gone(key);
        }
        else
        {
            _scheduler.Observed(key);
        }

        if (OwnerKey(change.Resource) is { } owner)
        {
            _enqueueImage(owner);
        }

        _metrics.ReportActivePulls();

        // A slot may have opened (a Job finished or went away).
        if (_scheduler.HasDemand && (change.Type == ResourceEventType.Deleted || !PullScheduler.IsActive(change.Resource)))
        {
            _scheduling.Request();
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
            _enqueueImage(key);
        }
        else if (pod.Metadata?.Annotations?.TryGetValue(PullObjectNames.PrePullImageAnnotation, out var name) == true && !string.IsNullOrEmpty(name))
        {
            // The Job is not (or no longer) in the cache; the pod names its PrePullImage itself.
            _enqueueImage(ResourceKeys.For(pod.Metadata.NamespaceProperty, name));
        }

        // The pod of a deleted Job occupies its node until it goes or finishes: that may open a slot. So does a pull
        // that just reported its imageID, without waiting for its Job to be deleted.
        var justPulled = PullScheduler.HasPulled(pod) && (change.Previous is null || !PullScheduler.HasPulled(change.Previous));
        if (_scheduler.HasDemand && ((job is null && (change.Type == ResourceEventType.Deleted || pod.Status?.Phase is "Succeeded" or "Failed"))
            || (change.Type != ResourceEventType.Deleted && justPulled)))
        {
            _scheduling.Request();
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
        _selection?.NodeChanged(change);
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
                _enqueueImage(ResourceKeys.For(image));
            }
        }
    }

    private static string? OwnerKey(V1Job job)
    {
        var owner = job.Metadata?.OwnerReferences?.FirstOrDefault(reference => reference.Kind == PrePullImage.KubeKind && reference.Controller == true);
        return owner is null ? null : ResourceKeys.For(job.Metadata!.NamespaceProperty, owner.Name);
    }

    /// <summary>Whether a node's newly listed image names include the reference, as one image identity.</summary>
    private static bool IsAmong(string reference, HashSet<string> names) =>
        ImageIdentity.TryParse(reference, out var identity, out _) ? identity.IsListedIn(names) : names.Contains(reference);

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
