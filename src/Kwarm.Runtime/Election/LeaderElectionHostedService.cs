using Microsoft.Extensions.Hosting;

namespace Kwarm.Runtime;

/// <summary>
/// Campaigns for leadership and, while leader, runs every <see cref="ILeaderOnlyWorker"/> once all caches have
/// synced (a controller must never mistake a cache still filling for an empty cluster).
/// </summary>
public sealed class LeaderElectionHostedService : BackgroundService
{
    private readonly LeaderElection _election;
    private readonly IReadOnlyList<ILeaderOnlyWorker> _workers;
    private readonly IReadOnlyList<IResourceInformer> _informers;

    public LeaderElectionHostedService(LeaderElection election, IEnumerable<ILeaderOnlyWorker> workers, IEnumerable<IResourceInformer> informers)
    {
        _election = election;
        _workers = [.. workers];
        _informers = [.. informers];
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        _workers.Count == 0 ? Task.CompletedTask : _election.RunAsync(LeadAsync, stoppingToken);

    private async Task LeadAsync(CancellationToken leadership)
    {
        await Task.WhenAll(_informers.Select(informer => informer.WaitForSyncAsync(leadership))).ConfigureAwait(false);
        await Task.WhenAll(_workers.Select(worker => Task.Run(() => worker.RunAsync(leadership), CancellationToken.None))).ConfigureAwait(false);
    }
}
