using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>
/// The release of a hold as ONE JSON Patch: <c>test</c> that the hold annotation still carries the id being
/// released (so a stale release can never unpause a newer hold: the API server answers 422 and nothing changes),
/// set <c>paused</c> to false unless a person already did, remove the hold annotations, and add
/// <c>kwarm.io/released: &lt;id&gt;</c> so the webhook recognises the write by content and the annotations never
/// reach a ReplicaSet.
/// </summary>
/// <remarks>
/// A StatefulSet's release restores the partition recorded in <c>kwarm.io/partition</c> (<c>add</c> the number, or
/// <c>remove</c> the field for <c>none</c>); a DaemonSet's replaces <c>spec.updateStrategy</c> with the JSON recorded in
/// <c>kwarm.io/update-strategy</c>. Both only while the hold's change is still in place (like <c>paused</c>: a value a person
/// wrote over it stands). A record that is missing or unparsable (edited by hand) restores the API default (partition 0;
/// RollingUpdate with maxUnavailable 1, maxSurge 0) and the plan says so for a Warning event.
/// </remarks>
public static class HoldReleasePatch
{
    private const string StrategyPath = "/spec/updateStrategy";
    private const string PartitionPath = StrategyPath + "/rollingUpdate/partition";

    private static readonly System.Text.Json.JsonElement DefaultDaemonSetStrategy = HoldMechanics.Json(HoldMechanics.DefaultDaemonSetStrategy);

    /// <summary>The release of any kind; a Deployment's patch is <see cref="Build"/>'s.</summary>
    public static ReleasePlan For(WorkloadObject workload, string holdId, bool startRecorded = false)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(holdId);
        if (workload.Source is V1Deployment deployment)
        {
            return new ReleasePlan(Build(deployment, holdId, startRecorded), null);
        }

        var annotations = workload.Metadata?.Annotations ?? new Dictionary<string, string>();
        var recordKey = HoldMechanics.RecordAnnotation(workload.Kind)!;
        var recorded = annotations.TryGetValue(recordKey, out var text) ? text : null;
        var operations = new List<JsonPatchOperation> { new("test", AnnotationPath(KwarmApi.HoldAnnotation), holdId) };
        string? restoredDefault = null;
        if (workload.HoldEngaged && workload.Kind == WorkloadKind.StatefulSet)
        {
            if (!HoldMechanics.TryParsePartitionRecord(recorded, out var partition))
            {
                partition = HoldMechanics.DefaultPartition;
                restoredDefault = $"{Describe(recordKey, recorded)}: the release restored the API default partition {HoldMechanics.DefaultPartition}";
            }

            operations.Add(partition is { } number ? JsonPatchOperation.Add(PartitionPath, number) : new JsonPatchOperation("remove", PartitionPath));
        }
        else if (workload.HoldEngaged)
        {
            if (!HoldMechanics.TryParseDaemonSetStrategyRecord(recorded, out var strategy))
            {
                strategy = DefaultDaemonSetStrategy;
                restoredDefault = $"{Describe(recordKey, recorded)}: the release restored the API default update strategy {HoldMechanics.DefaultDaemonSetStrategy}";
            }

            operations.Add(JsonPatchOperation.Add(StrategyPath, strategy));
        }

        operations.Add(new JsonPatchOperation("remove", AnnotationPath(KwarmApi.HoldAnnotation)));
        foreach (var key in new[] { KwarmApi.PolicyAnnotation, KwarmApi.ReleaseAnnotation, recordKey })
        {
            if (annotations.ContainsKey(key))
            {
                operations.Add(new JsonPatchOperation("remove", AnnotationPath(key)));
            }
        }

        if (startRecorded || annotations.ContainsKey(KwarmApi.HoldStartedAnnotation))
        {
            operations.Add(new JsonPatchOperation("remove", AnnotationPath(KwarmApi.HoldStartedAnnotation)));
        }

        operations.Add(new JsonPatchOperation("add", AnnotationPath(KwarmApi.ReleasedAnnotation), holdId));
        return new ReleasePlan(operations, restoredDefault);
    }

    private static string Describe(string key, string? recorded) => recorded is null
        ? $"the annotation {key} with the user's value is missing"
        : $"the annotation {key} with the user's value is not usable (\"{(recorded.Length > 100 ? recorded[..100] + "..." : recorded)}\")";

    /// <param name="startRecorded">
    /// The server's object carries <c>kwarm.io/hold-started</c> (the cache shows it, or this controller wrote it and the
    /// watch has not caught up): it goes with the hold.
    /// </param>
    public static IReadOnlyList<JsonPatchOperation> Build(V1Deployment deployment, string holdId, bool startRecorded = false)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(holdId);
        var annotations = deployment.Metadata?.Annotations ?? new Dictionary<string, string>();
        var operations = new List<JsonPatchOperation> { new("test", AnnotationPath(KwarmApi.HoldAnnotation), holdId) };
        if (deployment.Spec?.Paused == true && !KeepsPaused(deployment))
        {
            operations.Add(new JsonPatchOperation("replace", "/spec/paused", false));
        }

        operations.Add(new JsonPatchOperation("remove", AnnotationPath(KwarmApi.HoldAnnotation)));
        // "remove" of an absent member fails the whole patch: only what the cached object shows is removed, and a
        // cache that is behind gets a 422, a re-read and a new attempt. kwarm.io/keep-paused is honoured once, by
        // this release: left in place it would keep a later hold's rollout paused too.
        foreach (var key in new[] { KwarmApi.PolicyAnnotation, KwarmApi.ReleaseAnnotation, KwarmApi.KeepPausedAnnotation })
        {
            if (annotations.ContainsKey(key))
            {
                operations.Add(new JsonPatchOperation("remove", AnnotationPath(key)));
            }
        }

        if (startRecorded || annotations.ContainsKey(KwarmApi.HoldStartedAnnotation))
        {
            operations.Add(new JsonPatchOperation("remove", AnnotationPath(KwarmApi.HoldStartedAnnotation)));
        }

        operations.Add(new JsonPatchOperation("add", AnnotationPath(KwarmApi.ReleasedAnnotation), holdId));
        return operations;
    }

    /// <summary>
    /// A person asked, with <c>kwarm.io/keep-paused: "true"</c>, that the rollout stay paused after the hold (the way to
    /// say "rollout pause" while Kwarm's own pause is in place: <c>kubectl rollout pause</c> answers "already paused").
    /// </summary>
    public static bool KeepsPaused(V1Deployment deployment) =>
        deployment?.Metadata?.Annotations?.TryGetValue(KwarmApi.KeepPausedAnnotation, out var keep) == true
        && string.Equals(keep, "true", StringComparison.Ordinal);

    /// <summary>
    /// Records when the hold began, tested against the hold id so that it can never land on a newer hold. <c>add</c>
    /// replaces a record a superseded hold left.
    /// </summary>
    public static IReadOnlyList<JsonPatchOperation> RecordStart(HoldStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        return
        [
            new("test", AnnotationPath(KwarmApi.HoldAnnotation), start.HoldId),
            new("add", AnnotationPath(KwarmApi.HoldStartedAnnotation), start.Format()),
        ];
    }

    /// <summary>Removes the start record a hold left behind when the hold itself is gone (its annotation removed by hand).</summary>
    public static IReadOnlyList<JsonPatchOperation> ForgetStart(string recorded) =>
    [
        new("test", AnnotationPath(KwarmApi.HoldStartedAnnotation), recorded),
        new("remove", AnnotationPath(KwarmApi.HoldStartedAnnotation)),
    ];

    private static string AnnotationPath(string key) => JsonPatchOperation.AnnotationPath(key);
}
