using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>What to do with an active hold now: release it (and why), or keep holding until <see cref="Until"/> at the latest.</summary>
public sealed record HoldVerdict(ReleaseReason? Reason, string Detail, DateTimeOffset Until)
{
    public bool Releases => Reason is not null;

    /// <summary>
    /// The decision for a Deployment carrying <c>kwarm.io/hold: <paramref name="holdId"/></c>, from what the API shows:
    /// the Deployment, the policy named in <c>kwarm.io/policy</c> (null when it is gone), the hold's PrePullImages
    /// that exist and the names that should exist, the hold's start, and how many images of the hold cannot be pulled
    /// at all (an invalid reference: no PrePullImage is made for them, and each counts as a failed image). Pure: no
    /// clock, no I/O.
    /// </summary>
    public static HoldVerdict Decide(
        V1Deployment deployment,
        PrePullPolicy? policy,
        IReadOnlyCollection<PrePullImage> images,
        IReadOnlyCollection<string> expectedNames,
        DateTimeOffset start,
        DateTimeOffset now,
        int unpullable = 0) =>
        Decide(WorkloadObject.Of(deployment), policy, images, expectedNames, start, now, unpullable);

    /// <summary>
    /// The decision for any kind, as for a Deployment. A StatefulSet or DaemonSet whose hold's spec change is gone (the
    /// partition or strategy written over by hand without the webhook, or a StatefulSet switched to OnDelete) is released
    /// like a resumed Deployment: the user's new value stands.
    /// </summary>
    public static HoldVerdict Decide(
        WorkloadObject workload,
        PrePullPolicy? policy,
        IReadOnlyCollection<PrePullImage> images,
        IReadOnlyCollection<string> expectedNames,
        DateTimeOffset start,
        DateTimeOffset now,
        int unpullable = 0)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(expectedNames);
        var kind = workload.Kind;
        var annotations = workload.Metadata?.Annotations ?? new Dictionary<string, string>();
        if (IsTrue(annotations, KwarmApi.SkipAnnotation))
        {
            return Release(ReleaseReason.Released, $"{KwarmApi.SkipAnnotation} is set: Kwarm leaves this {kind} alone");
        }

        if (IsTrue(annotations, KwarmApi.ReleaseAnnotation))
        {
            return Release(ReleaseReason.Released, $"{KwarmApi.ReleaseAnnotation} is set");
        }

        if (!workload.HoldEngaged)
        {
            return Release(ReleaseReason.Released, kind switch
            {
                WorkloadKind.StatefulSet => "the partition was changed by hand",
                WorkloadKind.DaemonSet => "the update strategy was changed by hand",
                _ => "the rollout was resumed by hand",
            });
        }

        var policyName = annotations.TryGetValue(KwarmApi.PolicyAnnotation, out var named) ? named : null;
        if (policy is null || policy.Metadata?.DeletionTimestamp is not null)
        {
            // Fail open: the operator removed the rules the hold was placed under; nothing says how long to wait.
            return Release(ReleaseReason.Released, policyName is null
                ? $"the {kind} names no policy in {KwarmApi.PolicyAnnotation}"
                : $"PrePullPolicy {policyName} no longer exists");
        }

        if (!PolicyMatcher.Selects(policy, kind, workload.Metadata?.NamespaceProperty, workload.Metadata?.Labels))
        {
            // Opted out (label removed), the selector was narrowed or spec.workloads no longer names the kind: the hold
            // no longer has a policy behind it.
            return Release(ReleaseReason.Released, $"PrePullPolicy {policyName} no longer selects this {kind}");
        }

        var hold = policy.Spec.EffectiveHold;
        var byName = images.Where(image => image.Metadata?.Name is not null).ToDictionary(image => image.Metadata.Name, StringComparer.Ordinal);
        var present = expectedNames.Select(name => byName.GetValueOrDefault(name)).ToList();
        if (present.All(image => image?.Status?.Phase is PrePullImagePhase.Completed or PrePullImagePhase.Failed))
        {
            var failed = present.Count(image => image!.Status!.Phase == PrePullImagePhase.Failed);
            if (failed + unpullable == 0)
            {
                return Release(ReleaseReason.Warm, $"{present.Count} image(s) pre-pulled on every target node");
            }

            if (hold.EffectiveOnFailure == HoldFailureAction.Release)
            {
                return Release(ReleaseReason.PullFailed, unpullable == 0
                    ? $"{failed} of {present.Count} image(s) failed to pre-pull on some nodes (onFailure: Release)"
                    : $"{failed + unpullable} of {present.Count + unpullable} image(s) failed to pre-pull on some nodes or cannot be pulled at all (onFailure: Release)");
            }
        }

        if (present.Count == 0 && unpullable > 0)
        {
            // Nothing is pulled, so nothing can become warm, and with no PrePullImage nothing dates the hold for
            // maxDuration: fail open now, whatever onFailure says (the PullFailed events name the references).
            return Release(ReleaseReason.PullFailed, $"none of the {unpullable} image(s) can be pulled (the PullFailed events say why)");
        }

        var maxDuration = hold.EffectiveMaxDuration;
        var deadline = start + maxDuration;
        return now >= deadline
            ? Release(ReleaseReason.Timeout, $"the images were not warm within hold.maxDuration {GoDuration.Format(maxDuration)}")
            : new HoldVerdict(null, "waiting for the pre-pull", deadline);

        HoldVerdict Release(ReleaseReason reason, string detail) => new(reason, detail, now);
    }

    private static bool IsTrue(IDictionary<string, string> annotations, string key) =>
        annotations.TryGetValue(key, out var value) && string.Equals(value, "true", StringComparison.Ordinal);
}
