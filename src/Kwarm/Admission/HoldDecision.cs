using System.Text.Json;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Admission;

/// <summary>
/// The webhook's decision for one admission request (DESIGN §4, per kind as in §10 and issue #16), as a pure function of
/// the request, the policy that selects the workload, and Kwarm's own identity. No clock, no I/O: a dry run and the real
/// request get the same answer, byte for byte. The kind is the request's <c>kind</c>, whatever path it came in on.
/// </summary>
/// <remarks>
/// StatefulSet and DaemonSet differ from a Deployment where they have no <c>rollout resume</c>: a write that drops the
/// hold's spec change (partition below 2147483647, strategy other than OnDelete) during an active hold gets the hold back
/// whether or not it kept the hold annotation, with the NEW object's value recorded as the user's (their manifest now
/// says so); the way out is <c>kwarm.io/release</c>, <c>kwarm.io/skip</c> or <c>hold.maxDuration</c>. Decision: a write
/// that keeps the hold's spec change but drops the hold annotations gets them back too (with the recorded value of the
/// old object), since a partition of 2147483647 or an OnDelete left without a hold would never be released. A StatefulSet
/// switched to OnDelete during a hold is left alone (a partition is invalid with OnDelete): the controller releases it.
/// </remarks>
public sealed record HoldDecision(HoldReason Reason, IReadOnlyList<JsonPatchOperation> Patch, string? HoldId = null, string? PolicyName = null)
{
    private const string PausedPath = "/spec/paused";
    private const string AnnotationsPath = "/metadata/annotations";
    private const string StrategyPath = "/spec/updateStrategy";
    private const string RollingUpdatePath = StrategyPath + "/rollingUpdate";
    private const string PartitionPath = RollingUpdatePath + "/partition";

    private static readonly JsonElement HeldRollingUpdate = HoldMechanics.Json($$"""{"partition":{{HoldMechanics.HeldPartition}}}""");
    private static readonly JsonElement HeldStatefulSetStrategy =
        HoldMechanics.Json($$$"""{"type":"{{{HoldMechanics.RollingUpdate}}}","rollingUpdate":{"partition":{{{HoldMechanics.HeldPartition}}}}}""");
    private static readonly JsonElement HeldDaemonSetStrategy = HoldMechanics.Json(HoldMechanics.HeldDaemonSetStrategy);

    public bool Holds => Patch.Count > 0;

    /// <summary>The request's workload kind; null when it is none of the three.</summary>
    public WorkloadKind? Kind { get; init; }

    /// <summary>What to tell the person who made the change when Kwarm does not hold it for a reason they should know.</summary>
    public string? Warning { get; init; }

    /// <summary>Decides from the request's <c>object</c> and <c>oldObject</c> elements.</summary>
    public static HoldDecision Decide(AdmissionRequest request, PrePullPolicy? policy, KwarmIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Decide(
            request,
            request.Object is { } updated ? WorkloadSnapshot.Read(updated) : null,
            request.OldObject is { } previous ? WorkloadSnapshot.Read(previous) : null,
            policy,
            identity);
    }

    /// <param name="request">The envelope; its <c>object</c> and <c>oldObject</c> are not read here.</param>
    /// <param name="updated">The request's object, null when the request has none.</param>
    /// <param name="previous">The request's old object, null when the request has none.</param>
    /// <param name="policy">The policy selecting the workload; one that does not apply to its kind counts as none.</param>
    /// <param name="identity">Kwarm's own service account, whose writes are never held.</param>
    internal static HoldDecision Decide(AdmissionRequest request, WorkloadSnapshot? updated, WorkloadSnapshot? previous, PrePullPolicy? policy, KwarmIdentity identity)
    {
        var decision = DecideForKind(request, updated, previous, policy, identity);
        return decision with { Kind = KindOf(request) };
    }

    private static HoldDecision DecideForKind(AdmissionRequest request, WorkloadSnapshot? updated, WorkloadSnapshot? previous, PrePullPolicy? policy, KwarmIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(identity);

        if (!string.IsNullOrEmpty(request.SubResource))
        {
            return Allow(HoldReason.Subresource);
        }

        if (KindOf(request) is not { } kind || updated is null)
        {
            return Allow(HoldReason.NotAWorkload);
        }

        if (policy is null || !policy.Spec.EffectiveWorkloads.Contains(kind))
        {
            return Allow(HoldReason.NoMatchingPolicy);
        }

        if (updated.Skipped)
        {
            return Allow(HoldReason.SkipAnnotation);
        }

        if (identity.Is(request.UserInfo))
        {
            return Allow(HoldReason.KwarmIdentity);
        }

        var hold = policy.Spec?.Hold;
        var holdEnabled = hold?.Enabled ?? true;
        var decider = new Decider(kind, policy, holdEnabled);
        switch (request.Operation)
        {
            case AdmissionRequest.Create:
                return hold?.OnCreate == true
                    ? decider.ImageChange(updated, previous: null)
                    : Allow(HoldReason.CreateWithoutHoldOnCreate);
            case AdmissionRequest.Update when previous is not null:
                return updated.HasSameImages(previous)
                    ? decider.SameImages(updated, previous)
                    : decider.ImageChange(updated, previous);
            default:
                return Allow(HoldReason.UnsupportedOperation);
        }
    }

    /// <summary>The request's workload kind: apps/v1 Deployment, StatefulSet or DaemonSet; null for anything else.</summary>
    public static WorkloadKind? KindOf(AdmissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return HoldMechanics.KindOf(request.Kind?.Group, request.Kind?.Kind);
    }

    public static bool IsDeployment(AdmissionRequest request) => KindOf(request) == WorkloadKind.Deployment;

    /// <summary>The decision's steps for one kind and policy.</summary>
    private sealed record Decider(WorkloadKind Kind, PrePullPolicy Policy, bool HoldEnabled)
    {
        public HoldDecision SameImages(WorkloadSnapshot updated, WorkloadSnapshot previous) => Kind == WorkloadKind.Deployment
            ? DecideSameImages(updated, previous, Policy, HoldEnabled)
            : SameImagesOfStrategyKind(updated, previous);

        public HoldDecision ImageChange(WorkloadSnapshot updated, WorkloadSnapshot? previous) => Kind == WorkloadKind.Deployment
            ? DecideImageChange(updated, previous, Policy, HoldEnabled)
            : ImageChangeOfStrategyKind(updated, previous);

        private HoldDecision SameImagesOfStrategyKind(WorkloadSnapshot updated, WorkloadSnapshot previous)
        {
            if (!HasActiveHold(Kind, previous))
            {
                return Allow(HoldReason.ImagesUnchanged);
            }

            var previousHold = previous.HoldId!;
            if (IsOwnOnDelete(Kind, updated, previous))
            {
                return Allow(HoldReason.OnDeleteStrategy);
            }

            var engaged = IsEngaged(Kind, updated);
            if (engaged && updated.HoldId is not null)
            {
                return Allow(HoldReason.ImagesUnchanged);
            }

            if (!engaged && updated.HoldId is null && string.Equals(updated.ReleasedHoldId, previousHold, StringComparison.Ordinal))
            {
                return Allow(HoldReason.ReleasedByKwarm);
            }

            return HoldEnabled
                ? PlaceOfStrategyKind(updated, previous, previousHold, HoldReason.HoldRestored)
                : Allow(HoldReason.HoldDisabled);
        }

        private HoldDecision ImageChangeOfStrategyKind(WorkloadSnapshot updated, WorkloadSnapshot? previous)
        {
            if (IsStagedByUser(updated) || (previous is not null && IsStagedByUser(previous)))
            {
                return Allow(HoldReason.PartitionedByUser);
            }

            if (NotHoldable(updated) is { } refused)
            {
                return refused;
            }

            if (IsOwnOnDelete(Kind, updated, previous))
            {
                return Allow(HoldReason.OnDeleteStrategy);
            }

            return HoldEnabled
                ? PlaceOfStrategyKind(updated, previous, Kwarm.Workloads.HoldId.For(updated.Images), HoldReason.ImagesChanged)
                : Allow(HoldReason.HoldDisabled);
        }

        /// <summary>A StatefulSet whose partition already keeps every ordinal (and more than none) back, without a Kwarm hold.</summary>
        private bool IsStagedByUser(WorkloadSnapshot workload) =>
            Kind == WorkloadKind.StatefulSet && workload.HoldId is null
            && workload.UpdateStrategy is { Type: null or HoldMechanics.RollingUpdate, Partition: > 0 and var partition }
            && partition >= (workload.Replicas ?? 1);

        /// <summary>
        /// The hold patch of a StatefulSet or DaemonSet: the spec change, then hold, policy and the user's value. The user's
        /// value is the object's own when the hold's change is not on it; when it is (an update during a hold kept it), the
        /// record already made, from this object or the old one: the held value is never recorded as the user's.
        /// </summary>
        private HoldDecision PlaceOfStrategyKind(WorkloadSnapshot updated, WorkloadSnapshot? previous, string holdId, HoldReason reason)
        {
            var recordKey = HoldMechanics.RecordAnnotation(Kind)!;
            var record = IsEngaged(Kind, updated)
                ? updated.Recorded(recordKey) ?? previous?.Recorded(recordKey)
                : OwnValue(updated);
            List<JsonPatchOperation> spec = Kind == WorkloadKind.StatefulSet
                ? [PartitionHold(updated.UpdateStrategy)]
                : [JsonPatchOperation.Add(StrategyPath, HeldDaemonSetStrategy)];
            return Place(updated, previous, holdId, Policy, reason, spec, record is null ? [] : [(recordKey, record)]);
        }

        private string OwnValue(WorkloadSnapshot workload) => Kind == WorkloadKind.StatefulSet
            ? HoldMechanics.PartitionRecord(workload.UpdateStrategy?.Partition)
            : workload.UpdateStrategy?.Json ?? HoldMechanics.DefaultDaemonSetStrategy;

        private static JsonPatchOperation PartitionHold(UpdateStrategySnapshot? strategy) => strategy switch
        {
            null => JsonPatchOperation.Add(StrategyPath, HeldStatefulSetStrategy),
            { HasRollingUpdate: true } => JsonPatchOperation.Add(PartitionPath, HoldMechanics.HeldPartition),
            _ => JsonPatchOperation.Add(RollingUpdatePath, HeldRollingUpdate),
        };
    }

    /// <summary>The hold's spec change is in place: paused, partition at 2147483647, or OnDelete.</summary>
    private static bool IsEngaged(WorkloadKind kind, WorkloadSnapshot workload) => kind switch
    {
        WorkloadKind.StatefulSet => HoldMechanics.IsHeldPartition(workload.UpdateStrategy?.Type, workload.UpdateStrategy?.Partition),
        WorkloadKind.DaemonSet => workload.UpdateStrategy?.Type == HoldMechanics.OnDelete,
        _ => workload.Paused,
    };

    private static bool HasActiveHold(WorkloadKind kind, WorkloadSnapshot workload) => workload.HoldId is not null && IsEngaged(kind, workload);

    /// <summary>
    /// OnDelete chosen by the user: a StatefulSet's always is; a DaemonSet's is unless it carries a Kwarm hold or the old
    /// object did (then the write only dropped the hold's annotations, and they are put back).
    /// </summary>
    private static bool IsOwnOnDelete(WorkloadKind kind, WorkloadSnapshot workload, WorkloadSnapshot? previous) => kind switch
    {
        WorkloadKind.StatefulSet => workload.UpdateStrategy?.Type == HoldMechanics.OnDelete,
        WorkloadKind.DaemonSet => workload.UpdateStrategy?.Type == HoldMechanics.OnDelete && workload.HoldId is null
            && (previous is null || !HasActiveHold(kind, previous)),
        _ => false,
    };

    /// <summary>The rows of the table that refuse a hold for the object itself, the same for every kind.</summary>
    private static HoldDecision? NotHoldable(WorkloadSnapshot updated)
    {
        if (updated.Images.Count == 0)
        {
            return Allow(HoldReason.NoImages);
        }

        if (updated.UnparsableImages.Count > 0)
        {
            return new HoldDecision(HoldReason.UnparsableImage, [])
            {
                Warning = "kwarm: not held: " + string.Join("; ", updated.UnparsableImages),
            };
        }

        return updated.Replicas == 0 ? Allow(HoldReason.ZeroReplicas) : null;
    }

    private static HoldDecision DecideSameImages(WorkloadSnapshot updated, WorkloadSnapshot previous, PrePullPolicy policy, bool holdEnabled)
    {
        if (!previous.HasActiveHold)
        {
            return Allow(HoldReason.ImagesUnchanged);
        }

        var previousHold = previous.HoldId!;
        if (updated.HoldId is null && !updated.Paused)
        {
            if (string.Equals(updated.ReleasedHoldId, previousHold, StringComparison.Ordinal))
            {
                return Allow(HoldReason.ReleasedByKwarm);
            }

            // A full replace (kubectl replace, Argo CD Replace=true) drops fields no manager owns, the webhook's
            // included; without this the rollout would start with images that are not on the nodes yet.
            return holdEnabled
                ? Place(updated, previous, previousHold, policy, HoldReason.HoldRestored, [JsonPatchOperation.Add(PausedPath, true)], [])
                : Allow(HoldReason.HoldDisabled);
        }

        if (updated.HoldId is not null && !updated.Paused)
        {
            return Allow(HoldReason.ResumedDuringHold);
        }

        return Allow(HoldReason.ImagesUnchanged);
    }

    private static HoldDecision DecideImageChange(WorkloadSnapshot updated, WorkloadSnapshot? previous, PrePullPolicy policy, bool holdEnabled)
    {
        // Paused by someone else, before or in this very request: Kwarm's release would unpause it, so no hold.
        if (updated.PausedWithoutHold || previous?.PausedWithoutHold == true)
        {
            return Allow(HoldReason.PausedByUser);
        }

        if (NotHoldable(updated) is { } refused)
        {
            return refused;
        }

        if (!holdEnabled)
        {
            return Allow(HoldReason.HoldDisabled);
        }

        return Place(updated, previous, Kwarm.Workloads.HoldId.For(updated.Images), policy, HoldReason.ImagesChanged, [JsonPatchOperation.Add(PausedPath, true)], []);
    }

    /// <summary>
    /// Holds: the kind's spec change, hold id, policy and the kind's record of the user's value. When the write dropped
    /// the hold controller's <c>kwarm.io/hold-started</c> record (a full replace), it is carried over from the old object:
    /// it is the only record of when the current (or, for an image change, the superseded) hold began, which its deadline
    /// and its HoldReleased event depend on. Copied, never made up here: the answer stays free of clocks.
    /// </summary>
    private static HoldDecision Place(
        WorkloadSnapshot updated,
        WorkloadSnapshot? previous,
        string holdId,
        PrePullPolicy policy,
        HoldReason reason,
        IReadOnlyList<JsonPatchOperation> spec,
        IReadOnlyList<(string Key, string Value)> records)
    {
        var policyName = policy.Metadata?.Name ?? "";
        var carriedStart = updated.HoldStarted is null && previous?.HoldId is not null ? previous.HoldStarted : null;
        List<(string Key, string Value)> annotations = [(KwarmApi.HoldAnnotation, holdId), (KwarmApi.PolicyAnnotation, policyName), .. records];
        if (carriedStart is not null)
        {
            annotations.Add((KwarmApi.HoldStartedAnnotation, carriedStart));
        }

        List<JsonPatchOperation> patch = [.. spec];
        if (updated.HasAnnotationsMap)
        {
            patch.AddRange(annotations.Select(annotation => JsonPatchOperation.Add(AnnotationPath(annotation.Key), annotation.Value)));
        }
        else
        {
            patch.Add(JsonPatchOperation.Add(AnnotationsPath, annotations.ToDictionary(annotation => annotation.Key, annotation => annotation.Value, StringComparer.Ordinal)));
        }

        return new HoldDecision(reason, patch, holdId, policyName);
    }

    private static string AnnotationPath(string key) => JsonPatchOperation.AnnotationPath(key);

    private static HoldDecision Allow(HoldReason reason) => new(reason, []);
}
