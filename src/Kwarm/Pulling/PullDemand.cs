
namespace Kwarm.Pulling;

/// <summary>One PrePullImage's attempts that are ready to start, and how much service it has had so far.</summary>
/// <param name="WarmsNodes">
/// A node warm-up's PrePullImage (label <c>kwarm.io/warmup</c>): its attempts are granted before any other's, since the
/// nodes they serve take no pods until they are warm.
/// </param>
/// <param name="Started">
/// Attempts this PrePullImage has started so far, counted from its status (<see cref="PullPlanner.AttemptsStarted"/>),
/// so the count survives a restart or a failover: the scheduler serves the PrePullImage with the fewest first. The
/// scheduler adds the grants it makes until the next reconcile replaces the demand.
/// </param>
public sealed record PullDemand(string Key, DateTime CreatedAt, IReadOnlyList<PullAttempt> Attempts, bool WarmsNodes = false, int Started = 0);
