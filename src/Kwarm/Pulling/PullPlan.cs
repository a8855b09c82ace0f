using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>What one reconcile of a PrePullImage should do.</summary>
/// <param name="Status">The status to write (compare with the current one: write only when it differs).</param>
/// <param name="JobsToDelete">Jobs of finished or superseded attempts.</param>
/// <param name="Wanted">Attempts ready to start, in the order this PrePullImage prefers; the scheduler decides when.</param>
/// <param name="WakeAt">When to look again even if nothing changes (a backoff ends, a timeout runs out, a TTL expires).</param>
public sealed record PullPlan(
    PrePullImageStatus Status,
    IReadOnlyList<V1Job> JobsToDelete,
    IReadOnlyList<PullAttempt> Wanted,
    DateTime? WakeAt,
    IReadOnlyList<FinishedAttempt> Finished)
{
    public bool IsFinished => Status.Phase is PrePullImagePhase.Completed or PrePullImagePhase.Failed;
}
