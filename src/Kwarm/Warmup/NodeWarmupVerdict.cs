using k8s.Models;

namespace Kwarm.Warmup;

/// <summary>
/// What the warm-up decided for one node carrying the warming taint.
/// </summary>
/// <param name="Images">The canonical references the node needs (empty when no policy wants anything of it).</param>
/// <param name="Deadline">The Node's creation plus the longest <c>nodeWarmup.maxDuration</c> of the policies that apply to it.</param>
/// <param name="Lift">How its warm-up ended, when it did (the taint comes off); null while it waits.</param>
/// <param name="Pending">Images neither on the node nor failed for good.</param>
public sealed record NodeWarmupVerdict(
    V1Node Node,
    DateTimeOffset CreatedAt,
    DateTimeOffset Deadline,
    IReadOnlyList<string> Images,
    WarmupOutcome? Lift,
    IReadOnlyList<ImageFailure> Failures,
    int Pending)
{
    public string Name => Node.Metadata?.Name ?? "";

    public string Uid => Node.Metadata?.Uid ?? "";
}
