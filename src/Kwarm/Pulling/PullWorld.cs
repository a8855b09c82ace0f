using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>Everything the planner reads for one PrePullImage, taken from the caches at one moment.</summary>
/// <param name="Jobs">This PrePullImage's pull Jobs: those in the cache and those created but not seen there yet.</param>
/// <param name="PodOf">The pod of a Job, if any.</param>
/// <param name="Starting">Nodes whose next attempt was granted and whose Job create has not answered yet.</param>
/// <param name="EarlierError">The kubelet's last informative pull error for a pod's container (<see cref="KubeletPullErrors"/>).</param>
/// <param name="Remembered">
/// Full forms of entries that the last status written shortened or left out to stay under 1 MiB (see
/// <see cref="StatusBudget"/>); one replaces the listed entry while that still describes the same attempt.
/// </param>
public sealed record PullWorld(
    PrePullImage PrePullImage,
    IReadOnlyList<V1Node> Nodes,
    IReadOnlyList<V1Job> Jobs,
    Func<V1Job, V1Pod?> PodOf,
    DateTime Now,
    IReadOnlyCollection<NodePullStatus>? Remembered = null,
    IReadOnlySet<string>? Starting = null,
    Func<V1Pod, string, string?>? EarlierError = null);
