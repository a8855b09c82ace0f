using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// The nodes a PrePullImage's spec selects (node names, label selector, affinity: <see cref="PrePullImageSpec.TargetsNode"/>),
/// remembered per PrePullImage and generation until a node is added, removed or relabelled. The planner still judges
/// each selected node in full (Ready, cordon, taints, OS) from the cache's current object, but no longer runs the
/// selector over every node of the cluster on every reconcile: at 5,000 nodes that was most of the pull engine's
/// CPU in the storm benchmark (issue #18), and a node's kubelet reporting a new image, the common event, changes no
/// selection.
/// </summary>
public sealed class NodeSelection
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Selected> _byImage = new(StringComparer.Ordinal);
    private long _nodesEpoch;

    /// <summary>Any change that may move a selection (a node added, removed, renamed or relabelled) starts a new epoch.</summary>
    public void NodeChanged(ResourceEvent<V1Node> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Type == ResourceEventType.Updated && change.Previous is { } previous && SameSelectionInputs(previous, change.Resource))
        {
            return;
        }

        Interlocked.Increment(ref _nodesEpoch);
    }

    /// <summary>The cached nodes <paramref name="image"/>'s spec selects, as they are now.</summary>
    public IReadOnlyList<V1Node> For(PrePullImage image, ResourceCache<V1Node> nodes)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(nodes);
        var key = image.Metadata?.Uid ?? ResourceKeys.For(image);
        var generation = image.Metadata?.Generation;

        // Read before listing: a change landing in between bumps the epoch after it, and the next call lists again.
        var epoch = Interlocked.Read(ref _nodesEpoch);
        lock (_lock)
        {
            if (_byImage.TryGetValue(key, out var known) && known.Epoch == epoch && known.Generation == generation)
            {
                return [.. known.Names.Select(name => nodes.Get(null, name)).OfType<V1Node>()];
            }
        }

        var spec = image.Spec;
        var selected = nodes.List().Where(node => spec.TargetsNode(node.Metadata?.Name ?? "", node.Metadata?.Labels)).ToList();
        lock (_lock)
        {
            _byImage[key] = new Selected(epoch, generation, [.. selected.Select(node => node.Metadata?.Name ?? "")]);
        }

        return selected;
    }

    /// <summary>The PrePullImage is gone (or no longer this term's): its selection is dropped.</summary>
    public void Forget(string? uid)
    {
        if (uid is null)
        {
            return;
        }

        lock (_lock)
        {
            _byImage.Remove(uid);
        }
    }

    private static bool SameSelectionInputs(V1Node previous, V1Node current)
    {
        if (!string.Equals(previous.Metadata?.Name, current.Metadata?.Name, StringComparison.Ordinal))
        {
            return false;
        }

        var before = previous.Metadata?.Labels;
        var after = current.Metadata?.Labels;
        if (ReferenceEquals(before, after))
        {
            return true;
        }

        if (before is null || after is null)
        {
            return (before?.Count ?? 0) == 0 && (after?.Count ?? 0) == 0;
        }

        return before.Count == after.Count
            && before.All(label => after.TryGetValue(label.Key, out var value) && string.Equals(value, label.Value, StringComparison.Ordinal));
    }

    private sealed record Selected(long Epoch, long? Generation, string[] Names);
}
