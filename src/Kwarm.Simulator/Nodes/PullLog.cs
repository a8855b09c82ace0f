namespace Kwarm.Simulator.Nodes;

/// <summary>
/// One image pull a simulated kubelet finished: the node, the normalised reference, when the kubelet asked for it
/// (including any wait behind another pull on that node) and when the image was on the node.
/// </summary>
public sealed record CompletedPull(string Node, string Image, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);

/// <summary>
/// Every successful pull of every simulated node, in completion order. A start from the node's cache is not a pull
/// and is not listed. Benchmarks measure from here how long a release followed the last pull of a hold.
/// </summary>
public sealed class PullLog
{
    private readonly Lock _lock = new();
    private readonly List<CompletedPull> _pulls = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pulls.Count;
            }
        }
    }

    public void Record(CompletedPull pull)
    {
        ArgumentNullException.ThrowIfNull(pull);
        lock (_lock)
        {
            _pulls.Add(pull);
        }
    }

    /// <summary>A copy of the pulls finished so far.</summary>
    public IReadOnlyList<CompletedPull> Snapshot()
    {
        lock (_lock)
        {
            return [.. _pulls];
        }
    }
}
