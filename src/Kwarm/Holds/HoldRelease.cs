using System.Text.Json;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Holds;

/// <summary>Why a hold ended; the value is the event reason, the message word and the metric label (DESIGN §5).</summary>
public enum ReleaseReason
{
    /// <summary>Every PrePullImage of the hold completed.</summary>
    Warm,

    /// <summary>Every PrePullImage is done, some failed, and the policy says <c>onFailure: Release</c>.</summary>
    PullFailed,

    /// <summary><c>hold.maxDuration</c> passed: Kwarm fails open.</summary>
    Timeout,

    /// <summary>A person asked: <c>kwarm.io/release: "true"</c>, <c>rollout resume</c>, <c>kwarm.io/skip</c>, or the policy is gone.</summary>
    Released,

    /// <summary>An image change during the hold replaced it with a new hold (a new id, or the same id again later).</summary>
    Superseded,
}

/// <summary>One RFC 6902 operation of the release patch; <see cref="Value"/> is a string, a bool or null.</summary>
public sealed record PatchOperation(string Op, string Path, object? Value = null);

/// <summary>
/// The release of a hold as ONE JSON Patch: <c>test</c> that the hold annotation still carries the id being
/// released (so a stale release can never unpause a newer hold: the API server answers 422 and nothing changes),
/// set <c>paused</c> to false unless a person already did, remove the hold annotations, and add
/// <c>kwarm.io/released: &lt;id&gt;</c> so the webhook recognises the write by content and the annotations never
/// reach a ReplicaSet.
/// </summary>
public static class HoldReleasePatch
{
    private const string Annotations = "/metadata/annotations/";

    /// <param name="startRecorded">
    /// The server's object carries <c>kwarm.io/hold-started</c> (the cache shows it, or this controller wrote it and the
    /// watch has not caught up): it goes with the hold.
    /// </param>
    public static IReadOnlyList<PatchOperation> Build(V1Deployment deployment, string holdId, bool startRecorded = false)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(holdId);
        var annotations = deployment.Metadata?.Annotations ?? new Dictionary<string, string>();
        var operations = new List<PatchOperation> { new("test", AnnotationPath(KwarmApi.HoldAnnotation), holdId) };
        if (deployment.Spec?.Paused == true && !KeepsPaused(deployment))
        {
            operations.Add(new PatchOperation("replace", "/spec/paused", false));
        }

        operations.Add(new PatchOperation("remove", AnnotationPath(KwarmApi.HoldAnnotation)));
        // "remove" of an absent member fails the whole patch: only what the cached object shows is removed, and a
        // cache that is behind gets a 422, a re-read and a new attempt. kwarm.io/keep-paused is honoured once, by
        // this release: left in place it would keep a later hold's rollout paused too.
        foreach (var key in new[] { KwarmApi.PolicyAnnotation, KwarmApi.ReleaseAnnotation, KwarmApi.KeepPausedAnnotation })
        {
            if (annotations.ContainsKey(key))
            {
                operations.Add(new PatchOperation("remove", AnnotationPath(key)));
            }
        }

        if (startRecorded || annotations.ContainsKey(KwarmApi.HoldStartedAnnotation))
        {
            operations.Add(new PatchOperation("remove", AnnotationPath(KwarmApi.HoldStartedAnnotation)));
        }

        operations.Add(new PatchOperation("add", AnnotationPath(KwarmApi.ReleasedAnnotation), holdId));
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
    public static IReadOnlyList<PatchOperation> RecordStart(HoldStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        return
        [
            new("test", AnnotationPath(KwarmApi.HoldAnnotation), start.HoldId),
            new("add", AnnotationPath(KwarmApi.HoldStartedAnnotation), start.Format()),
        ];
    }

    /// <summary>Removes the start record a hold left behind when the hold itself is gone (its annotation removed by hand).</summary>
    public static IReadOnlyList<PatchOperation> ForgetStart(string recorded) =>
    [
        new("test", AnnotationPath(KwarmApi.HoldStartedAnnotation), recorded),
        new("remove", AnnotationPath(KwarmApi.HoldStartedAnnotation)),
    ];

    public static string AnnotationPath(string key) =>
        Annotations + key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    public static string Serialize(IReadOnlyList<PatchOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var operation in operations)
            {
                writer.WriteStartObject();
                writer.WriteString("op", operation.Op);
                writer.WriteString("path", operation.Path);
                switch (operation.Value)
                {
                    case null:
                        break;
                    case bool flag:
                        writer.WriteBoolean("value", flag);
                        break;
                    case string text:
                        writer.WriteString("value", text);
                        break;
                    default:
                        throw new InvalidOperationException($"Unsupported JSON Patch value {operation.Value.GetType()}.");
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
