using Kwarm.Resources;

namespace Kwarm.Warmup;

/// <summary>A pass's decisions: the warm-up PrePullImages that should exist (as they should read) and a verdict per warming node.</summary>
public sealed record WarmupPlan(IReadOnlyList<PrePullImage> Desired, IReadOnlyList<NodeWarmupVerdict> Nodes);
