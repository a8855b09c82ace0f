
namespace Kwarm.Pulling;

/// <summary>One PrePullImage's attempts that are ready to start (the scheduler serves the PrePullImage with the fewest first).</summary>
/// <param name="WarmsNodes">
/// A node warm-up's PrePullImage (label <c>kwarm.io/warmup</c>): its attempts are granted before any other's, since the
/// nodes they serve take no pods until they are warm.
/// </param>
public sealed record PullDemand(string Key, DateTime CreatedAt, IReadOnlyList<PullAttempt> Attempts, bool WarmsNodes = false);
