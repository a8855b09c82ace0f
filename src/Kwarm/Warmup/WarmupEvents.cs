using System.Globalization;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Warmup;

/// <summary>
/// The events of a node's warm-up, on the Node (core/v1 Events in <c>default</c>, where Node events live; source
/// <c>kwarm</c>). Names come from the node's uid and the fact, so recording a fact again (a later pass, a restart, a
/// failover) is refused with 409 instead of duplicated.
/// </summary>
public static class WarmupEvents
{
    public const string Component = KwarmEvent.Component;
    public const string Namespace = "default";
    public const string Started = "NodeWarmupStarted";
    public const string Warm = "NodeWarm";
    public const string Timeout = "NodeWarmupTimeout";
    public const string PullFailed = "NodeWarmupFailed";

    public static Corev1Event StartedOn(NodeWarmupVerdict verdict, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return Create(verdict, Started, "Normal",
            $"Warming up: pre-pulling {verdict.Images.Count} image(s) its pods will need; taint {KwarmApi.WarmingTaintKey} is lifted by {Stamp(verdict.Deadline)} at the latest",
            now, instance);
    }

    /// <summary>The lift's event: <see cref="Warm"/> (Normal) unless the deadline passed (<see cref="Timeout"/>, Warning).</summary>
    public static Corev1Event Lifted(NodeWarmupVerdict verdict, TimeSpan sinceCreation, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        var took = GoDuration.Format(TimeSpan.FromSeconds(Math.Floor(Math.Max(0, sinceCreation.TotalSeconds))));
        return verdict.Lift switch
        {
            WarmupOutcome.Timeout => Create(verdict, Timeout, "Warning",
                $"Taint {KwarmApi.WarmingTaintKey} lifted at nodeWarmup.maxDuration ({took} after the node's creation) with {verdict.Pending + verdict.Failures.Count} of {verdict.Images.Count} image(s) not on the node",
                now, instance),
            WarmupOutcome.NotNeeded => Create(verdict, Warm, "Normal",
                $"Taint {KwarmApi.WarmingTaintKey} lifted: no policy with nodeWarmup enabled wants an image on this node", now, instance),
            WarmupOutcome.Failed => Create(verdict, Warm, "Warning",
                $"Taint {KwarmApi.WarmingTaintKey} lifted after {took}: {verdict.Images.Count - verdict.Failures.Count} of {verdict.Images.Count} image(s) on the node, {verdict.Failures.Count} failed ({string.Join(", ", verdict.Failures.Select(f => f.Image))})",
                now, instance),
            _ => Create(verdict, Warm, "Normal",
                $"Taint {KwarmApi.WarmingTaintKey} lifted after {took}: all {verdict.Images.Count} image(s) on the node ({string.Join(", ", verdict.Images)})", now, instance),
        };
    }

    /// <summary>One Warning per image the node could not get, with the kubelet's own message.</summary>
    public static Corev1Event FailedOn(NodeWarmupVerdict verdict, ImageFailure failure, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        ArgumentNullException.ThrowIfNull(failure);
        return Create(verdict, PullFailed, "Warning", $"Pre-pull of {failure.Image} failed: {failure.Message}", now, instance, failure.Image);
    }

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static Corev1Event Create(NodeWarmupVerdict verdict, string reason, string type, string message, DateTime now, string instance, params string[] identity) =>
        KwarmEvent.Create(
            WarmupNames.Event(verdict.Name, verdict.Uid, [reason, .. identity]),
            Namespace,
            new V1ObjectReference { ApiVersion = "v1", Kind = V1Node.KubeKind, Name = verdict.Name, Uid = verdict.Uid },
            reason,
            type,
            message,
            now,
            instance);
}
