using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kwarm.Runtime;

/// <summary>
/// Healthy while the leader election loop runs, whether this replica leads or follows: a follower serves everything
/// but the controllers (Kwarm's webhook, for one) and must be ready, so "is leader" would be the wrong question.
/// A loop that has ended (leadership lost, leader work failed) is unhealthy until the process exits. With no
/// leader-only work registered there is nothing to elect for and the check is healthy.
/// </summary>
public sealed class LeaderElectionHealthCheck : IHealthCheck
{
    private readonly LeaderElection _election;
    private readonly bool _hasLeaderWork;

    public LeaderElectionHealthCheck(LeaderElection election, IEnumerable<ILeaderOnlyWorker> workers)
    {
        ArgumentNullException.ThrowIfNull(workers);
        _election = election ?? throw new ArgumentNullException(nameof(election));
        _hasLeaderWork = workers.Any();
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = (_hasLeaderWork, _election.IsRunning) switch
        {
            (false, _) => HealthCheckResult.Healthy("no leader-only work"),
            (true, true) => HealthCheckResult.Healthy(_election.IsLeader ? $"{_election.Identity} leads" : $"{_election.Identity} follows"),
            (true, false) => HealthCheckResult.Unhealthy("the leader election loop is not running"),
        };
        return Task.FromResult(result);
    }
}
