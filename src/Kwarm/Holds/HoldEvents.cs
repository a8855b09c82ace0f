using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>
/// The events the hold controller records on the held workload — Deployment, StatefulSet or DaemonSet (core/v1 Events, source and reporting controller
/// <c>kwarm</c>). Each name is derived from its content, so recording the same fact again — in a later reconcile,
/// or after a restart or failover — is refused by the API server with 409 instead of duplicating it. The content
/// includes the hold's recorded start (<see cref="HoldStart"/>), so a hold id seen again later (an image set changed
/// back to) is a new hold with events of its own.
/// </summary>
public static class HoldEvents
{
    public const string Component = KwarmEvent.Component;
    public const string HoldStarted = "HoldStarted";
    public const string HoldReleased = "HoldReleased";
    public const string PullFailed = "PullFailed";

    /// <summary>
    /// Warning: the release restored the API default because the recorded user value (<c>kwarm.io/partition</c>,
    /// <c>kwarm.io/update-strategy</c>) was missing or unparsable.
    /// </summary>
    public const string DefaultRestored = "DefaultRestored";

    public static Corev1Event Started(V1Deployment deployment, HoldStart start, int images, string policy, TimeSpan maxDuration, DateTime now, string instance) =>
        Started(WorkloadObject.Of(deployment), start, images, policy, maxDuration, now, instance);

    public static Corev1Event Started(WorkloadObject workload, HoldStart start, int images, string policy, TimeSpan maxDuration, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(start);
        return Create(workload, HoldStarted, "Normal",
            $"Rollout held (hold {start.HoldId}, policy {policy}): pre-pulling {images} image(s) before new pods start (hold.maxDuration {Kwarm.Resources.GoDuration.Format(maxDuration)} from {start.AtText})",
            now, instance, start.HoldId, start.AtText);
    }

    /// <summary>The release reason is the event's <c>action</c> and the word in parentheses of its message.</summary>
    public static Corev1Event Released(WorkloadObject workload, HoldStart start, ReleaseReason reason, string detail, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(start);
        var released = Create(workload, HoldReleased, reason is ReleaseReason.Warm or ReleaseReason.Released or ReleaseReason.Superseded ? "Normal" : "Warning",
            $"Hold {start.HoldId} released ({reason}): {detail}", now, instance, start.HoldId, start.AtText);
        released.Action = reason.ToString();
        return released;
    }

    /// <summary>One event per failed image of a hold, carrying the kubelet's own message.</summary>
    public static Corev1Event Failed(WorkloadObject workload, HoldStart start, string image, string message, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(start);
        return Create(workload, PullFailed, "Warning", $"Pre-pull of {image} failed: {message}", now, instance, start.HoldId, start.AtText, image);
    }

    /// <summary>The release restored an API default in place of a lost record of the user's value; <paramref name="detail"/> says which.</summary>
    public static Corev1Event DefaultRestoredOn(WorkloadObject workload, HoldStart start, string detail, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(start);
        return Create(workload, DefaultRestored, "Warning", $"Hold {start.HoldId}: {detail}", now, instance, start.HoldId, start.AtText);
    }

    private static Corev1Event Create(
        WorkloadObject workload, string reason, string type, string message, DateTime now, string instance, params string[] identity)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var metadata = workload.Metadata;
        return KwarmEvent.Create(
            HoldNames.Event(workload.Kind, metadata.Name, [reason, .. identity]),
            metadata.NamespaceProperty,
            new V1ObjectReference
            {
                ApiVersion = "apps/v1",
                Kind = workload.Kind.ToString(),
                Name = metadata.Name,
                NamespaceProperty = metadata.NamespaceProperty,
                Uid = metadata.Uid,
                ResourceVersion = metadata.ResourceVersion,
            },
            reason,
            type,
            message,
            now,
            instance);
    }
}
