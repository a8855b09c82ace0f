using k8s.LeaderElection;
using Microsoft.Extensions.Logging;

namespace Kwarm.Runtime;

/// <summary>
/// Runs the leader-only work (the controllers) while this replica holds the Lease, using the client's
/// <see cref="LeaderElector"/>. The work gets a token that is cancelled the moment leadership is lost (renewal failed
/// for <see cref="LeaderElectionOptions.RenewDeadline"/>, or another holder took the Lease) or the process stops.
/// <para>
/// Lost leadership ends the run, once the work has returned, with <see cref="LeadershipLostException"/> instead of
/// campaigning again (controller-runtime's behaviour): the hosted service fails with it, the host shuts down cleanly
/// and the process exits non-zero, so that Kubernetes restarts it and a fresh process, with nothing left over from the
/// lost term, campaigns. A campaign that never won (the API server
/// unreachable) is simply retried. With leader election disabled the replica leads at once, until the process stops.
/// Leader work that fails on its own (not through cancellation) ends the run with its exception likewise.
/// </para>
/// </summary>
public sealed class LeaderElection
{
    private readonly ILock? _lock;
    private readonly LeaderElectionOptions _options;
    private readonly ILogger _logger;
    private readonly RuntimeMetrics? _metrics;
    private volatile bool _isLeader;
    private int _running;

    /// <param name="lock">The lease to compete for; null disables leader election.</param>
    /// <param name="metrics">Where to report the leader gauge (label <c>name</c>: the Lease); null reports nothing.</param>
    public LeaderElection(ILock? @lock, LeaderElectionOptions options, ILogger<LeaderElection> logger, RuntimeMetrics? metrics = null)
    {
        _lock = @lock;
        _options = options;
        _logger = logger;
        _metrics = metrics;
        _metrics?.SetLeading(options.LeaseName, false);
    }

    public bool Enabled => _lock is not null;

    public string Identity => _lock?.Identity ?? "standalone";

    public bool IsLeader => _isLeader;

    /// <summary>
    /// True while <see cref="RunAsync"/> runs (campaigning, leading or following); readiness asks this, not
    /// <see cref="IsLeader"/>, since a follower serves everything but the leader's work.
    /// </summary>
    public bool IsRunning => Volatile.Read(ref _running) > 0;

    public async Task RunAsync(Func<CancellationToken, Task> leaderWork, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(leaderWork);
        Interlocked.Increment(ref _running);
        try
        {
            await RunLoopAsync(leaderWork, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private async Task RunLoopAsync(Func<CancellationToken, Task> leaderWork, CancellationToken stoppingToken)
    {
        if (_lock is null)
        {
            SetLeader(true);
            _logger.LeadingWithoutElection();
            try
            {
                await RunWorkAsync(leaderWork, stoppingToken).ConfigureAwait(false);
            }
            finally
            {
                SetLeader(false);
            }

            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var led = await RunTermAsync(_lock, leaderWork, stoppingToken).ConfigureAwait(false);
            if (led && !stoppingToken.IsCancellationRequested)
            {
                throw LeadershipLostException.Of(_lock.Identity, _options.LeaseName);
            }
        }
    }

    /// <summary>One campaign: wait to be elected, lead until leadership is lost, stop the work. True when it led.</summary>
    private async Task<bool> RunTermAsync(ILock @lock, Func<CancellationToken, Task> leaderWork, CancellationToken stoppingToken)
    {
        using var electorStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var workStarted = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var elector = new LeaderElector(new LeaderElectionConfig(@lock)
        {
            LeaseDuration = _options.LeaseDuration,
            RenewDeadline = _options.RenewDeadline,
            RetryPeriod = _options.RetryPeriod,
        });

        elector.OnStartedLeading += () =>
        {
            SetLeader(true);
            _logger.StartedLeading(@lock.Identity, _options.LeaseName);
            workStarted.TrySetResult(Task.Run(() => RunWorkAsync(leaderWork, term.Token), CancellationToken.None));
        };
        elector.OnStoppedLeading += () =>
        {
            SetLeader(false);
            try
            {
                term.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The term is already over.
            }
        };
        elector.OnNewLeader += leader => _logger.NewLeader(leader, _options.LeaseName);
        elector.OnError += exception => _logger.ElectionError(exception, _options.LeaseName);

        var electing = CampaignAsync(elector, electorStop.Token);
        await Task.WhenAny(electing, workStarted.Task).ConfigureAwait(false);
        if (!workStarted.Task.IsCompleted)
        {
            await electing.ConfigureAwait(false);

            // The elector raises its events synchronously, so once it has returned the work has started or never will;
            // a term that was won and lost at once must still wait for its work, or two terms could overlap.
            if (!workStarted.Task.IsCompleted)
            {
                return false;
            }
        }

        var work = await workStarted.Task.ConfigureAwait(false);
        await Task.WhenAny(electing, work).ConfigureAwait(false);
        if (work.IsFaulted)
        {
            // Leadership is not handed back explicitly: the lease simply expires once this process has stopped.
            await electorStop.CancelAsync().ConfigureAwait(false);
            await electing.ConfigureAwait(false);
            await work.ConfigureAwait(false);
        }

        await electing.ConfigureAwait(false);
        await term.CancelAsync().ConfigureAwait(false);
        await work.ConfigureAwait(false);
        SetLeader(false);
        if (!stoppingToken.IsCancellationRequested)
        {
            _logger.LostLeadership(@lock.Identity, _options.LeaseName);
        }

        return true;
    }

    private async Task CampaignAsync(LeaderElector elector, CancellationToken cancellationToken)
    {
        try
        {
            await elector.RunUntilLeadershipLostAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The API server unreachable while campaigning: not a reason to stop the process, try again shortly.
            _logger.ElectionError(ex, _options.LeaseName);
            try
            {
                await Task.Delay(_options.RetryPeriod, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task RunWorkAsync(Func<CancellationToken, Task> leaderWork, CancellationToken cancellationToken)
    {
        try
        {
            await leaderWork(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void SetLeader(bool leading)
    {
        _isLeader = leading;
        _metrics?.SetLeading(_options.LeaseName, leading);
    }
}
