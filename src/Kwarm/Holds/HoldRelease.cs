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

    public static IReadOnlyList<PatchOperation> Build(V1Deployment deployment, string holdId)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(holdId);
        var annotations = deployment.Metadata?.Annotations ?? new Dictionary<string, string>();
        var operations = new List<PatchOperation> { new("test", AnnotationPath(KwarmApi.HoldAnnotation), holdId) };
        if (deployment.Spec?.Paused == true)
        {
            operations.Add(new PatchOperation("replace", "/spec/paused", false));
        }

        operations.Add(new PatchOperation("remove", AnnotationPath(KwarmApi.HoldAnnotation)));
        // "remove" of an absent member fails the whole patch: only what the cached object shows is removed, and a
        // cache that is behind gets a 422, a re-read and a new attempt.
        foreach (var key in new[] { KwarmApi.PolicyAnnotation, KwarmApi.ReleaseAnnotation })
        {
            if (annotations.ContainsKey(key))
            {
                operations.Add(new PatchOperation("remove", AnnotationPath(key)));
            }
        }

        operations.Add(new PatchOperation("add", AnnotationPath(KwarmApi.ReleasedAnnotation), holdId));
        return operations;
    }

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
