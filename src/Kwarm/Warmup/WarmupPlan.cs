using Kwarm.Resources;

namespace Kwarm.Warmup;

/// <summary>A pass's decisions: the warm-up PrePullImages that should exist (as they should read) and a verdict per warming node.</summary>
/// <param name="Stale">
/// Existing warm-up PrePullImages that finished without pulling on their node (it could not take pulls when they ran)
/// while the node can now: deleted, so that the next pass creates them again.
/// </param>
public sealed record WarmupPlan(IReadOnlyList<PrePullImage> Desired, IReadOnlyList<NodeWarmupVerdict> Nodes, IReadOnlyList<PrePullImage> Stale);
