using System.Collections.Concurrent;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// Records every pod's <see cref="PodLifecycle"/> from the store's committed changes (it listens under the store lock, so
/// it only updates a dictionary). Kept for the life of the simulator: a benchmark reads it after its rollout.
/// </summary>
public sealed class PodTimeline(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, PodLifecycle> _pods = new(StringComparer.Ordinal);

    /// <summary>Every pod seen so far, in no particular order.</summary>
    public IReadOnlyList<PodLifecycle> Pods => [.. _pods.Values];

    public void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var pod = change.Object;
        if (pod.Type.StorageKey != "pods")
        {
            return;
        }

        var now = time.GetUtcNow();
        var entry = _pods.GetValueOrDefault(pod.Uid) ?? new PodLifecycle(
            pod.Namespace,
            pod.Name,
            pod.Uid,
            pod.NodeName,
            pod.Owners.Count > 0 ? pod.Owners[0] : null,
            pod.Labels.GetValueOrDefault("controller-revision-hash") ?? pod.Labels.GetValueOrDefault("pod-template-hash"),
            now,
            null,
            null,
            null);
        entry = entry with
        {
            Node = pod.NodeName ?? entry.Node,
            ReadyAt = entry.ReadyAt ?? (pod.Ready ? now : null),
            DeletionRequestedAt = entry.DeletionRequestedAt ?? (pod.Deleting || change.Type == WatchEventType.Deleted ? now : null),
            GoneAt = entry.GoneAt ?? (change.Type == WatchEventType.Deleted ? now : null),
        };
        _pods[pod.Uid] = entry;
    }
}
