using Kwarm.Hosting;
using Microsoft.Extensions.Hosting;

namespace Kwarm.Kubernetes;

/// <summary>Work that runs only on the elected leader (the hold controller, the pull engine).</summary>
public interface ILeaderOnlyWorker
{
    /// <summary>
    /// Runs until <paramref name="leadership"/> is cancelled (leadership lost or process stopping), then returns
    /// promptly. Called again, from scratch, if this replica becomes leader again. Throwing ends the process.
    /// </summary>
    Task RunAsync(CancellationToken leadership);
}

/// <summary>
/// Runs every informer on every replica (the webhook decides from the caches, DESIGN §4) and opens one
/// readiness gate per informer, named <c>cache:&lt;plural&gt;</c>, once its first list is stored.
/// </summary>
public sealed class InformerHostedService : BackgroundService
{
    public const string GatePrefix = "cache:";

    private readonly IReadOnlyList<IResourceInformer> _informers;
    private readonly ReadinessGates _gates;

    public InformerHostedService(IEnumerable<IResourceInformer> informers, ReadinessGates gates)
    {
        _informers = [.. informers];
        _gates = gates;
        foreach (var informer in _informers)
        {
            _gates.Register(GatePrefix + informer.Name);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_informers.Select(informer => Task.WhenAll(
            Task.Run(() => informer.RunAsync(stoppingToken), CancellationToken.None),
            OpenGateWhenSyncedAsync(informer, stoppingToken))));

    private async Task OpenGateWhenSyncedAsync(IResourceInformer informer, CancellationToken stoppingToken)
    {
        try
        {
            await informer.WaitForSyncAsync(stoppingToken).ConfigureAwait(false);
            _gates.Open(GatePrefix + informer.Name);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

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
