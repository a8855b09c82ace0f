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
public static class HoldReleasePatch
{
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
