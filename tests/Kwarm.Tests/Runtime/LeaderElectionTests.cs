using k8s.LeaderElection;
using Kwarm.Kubernetes;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Tests.Runtime;

/// <summary>The election wrapper over the client's real <see cref="LeaderElector"/>, with an in-memory lease.</summary>
public sealed class LeaderElectionTests
{
    private static readonly LeaderElectionOptions Quick = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(1),
        RenewDeadline = TimeSpan.FromMilliseconds(300),
        RetryPeriod = TimeSpan.FromMilliseconds(50),
    };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_leader_election_the_work_starts_at_once_and_stops_with_the_process()
    {
        var election = new LeaderElection(null, Quick, NullLogger<LeaderElection>.Instance);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopping = new CancellationTokenSource();

        var running = election.RunAsync(
            async token =>
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, token);
            },
            stopping.Token);

        await started.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.True(election.IsLeader);
        Assert.False(election.Enabled);

        await stopping.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.False(election.IsLeader);
    }

    [Fact]
    public async Task Losing_the_lease_cancels_the_work_then_ends_the_run_instead_of_campaigning_again()
    {
        var lease = new InMemoryLock("kwarm-0_aaaa");
        var election = new LeaderElection(lease, Quick, NullLogger<LeaderElection>.Instance);
        var terms = 0;
        var termStarted = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var workStopped = false;

        var running = election.RunAsync(
            async token =>
            {
                Interlocked.Increment(ref terms);
                termStarted.SetResult(token);
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                finally
                {
                    // Still inside the work: the run must not end before this has happened.
                    await Task.Yield();
                    Volatile.Write(ref workStopped, true);
                }
            },
            Token);

        var token = await termStarted.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.True(election.IsLeader);
        Assert.False(token.IsCancellationRequested);
        Assert.Equal("kwarm-0_aaaa", lease.Holder);

        lease.TakenBy("kwarm-1_bbbb");
        var lost = await Assert.ThrowsAsync<LeadershipLostException>(() => running.WaitAsync(TimeSpan.FromSeconds(10), Token));

        Assert.True(token.IsCancellationRequested);
        Assert.True(Volatile.Read(ref workStopped));
        Assert.False(election.IsLeader);
        Assert.Equal(1, terms);
        Assert.Contains("kwarm-0_aaaa lost leadership of lease kwarm-leader", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stop_while_leading_ends_the_run_without_an_error()
    {
        var election = new LeaderElection(new InMemoryLock("kwarm-0_aaaa"), Quick, NullLogger<LeaderElection>.Instance);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopping = new CancellationTokenSource();

        var running = election.RunAsync(
            async token =>
            {
                started.SetResult();
                await Task.Delay(Timeout.Infinite, token);
            },
            stopping.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);

        await stopping.CancelAsync();

        await running.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.False(election.IsLeader);
    }

    [Fact]
    public async Task Leader_work_that_fails_on_its_own_ends_the_run_with_its_error()
    {
        var election = new LeaderElection(new InMemoryLock("kwarm-0_aaaa"), Quick, NullLogger<LeaderElection>.Instance);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => election
            .RunAsync(_ => throw new InvalidOperationException("controller crashed"), Token)
            .WaitAsync(TimeSpan.FromSeconds(10), Token));

        Assert.Equal("controller crashed", failure.Message);
    }

    [Fact]
    public async Task Readiness_asks_whether_the_loop_runs_so_a_follower_is_ready_and_an_ended_loop_is_not()
    {
        var lease = new InMemoryLock("kwarm-1_bbbb");
        lease.TakenBy("kwarm-0_aaaa");
        var election = new LeaderElection(lease, Quick, NullLogger<LeaderElection>.Instance);
        var check = new LeaderElectionHealthCheck(election, [new IdleWorker()]);
        using var stopping = new CancellationTokenSource();
        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(new HealthCheckContext(), Token)).Status);

        var running = election.RunAsync(token => Task.Delay(Timeout.Infinite, token), stopping.Token);

        var following = await check.CheckHealthAsync(new HealthCheckContext(), Token);
        Assert.Equal(HealthStatus.Healthy, following.Status);
        Assert.Equal("kwarm-1_bbbb follows", following.Description);
        Assert.False(election.IsLeader);

        await stopping.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5), Token);
        var ended = await check.CheckHealthAsync(new HealthCheckContext(), Token);
        Assert.Equal(HealthStatus.Unhealthy, ended.Status);
        Assert.Equal("the leader election loop is not running", ended.Description);
    }

    [Fact]
    public async Task Without_leader_only_work_the_election_check_is_healthy()
    {
        var election = new LeaderElection(new InMemoryLock("kwarm-0_aaaa"), Quick, NullLogger<LeaderElection>.Instance);

        var result = await new LeaderElectionHealthCheck(election, []).CheckHealthAsync(new HealthCheckContext(), Token);

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public void Identities_carry_a_random_suffix()
    {
        var first = LeaderElectionOptions.NewIdentity();
        var second = LeaderElectionOptions.NewIdentity();

        Assert.NotEqual(first, second);
        Assert.Matches("^.+_[0-9a-f]{8}$", first);
    }

    private sealed class IdleWorker : ILeaderOnlyWorker
    {
        public Task RunAsync(CancellationToken leadership) => Task.Delay(Timeout.Infinite, leadership);
    }

    /// <summary>A Lease kept in memory; the test can hand it to another holder or free it.</summary>
    private sealed class InMemoryLock(string identity) : ILock
    {
        private readonly Lock _gate = new();
        private LeaderElectionRecord? _record;
        private bool _heldElsewhere;

        public string Identity { get; } = identity;

        public string? Holder
        {
            get
            {
                lock (_gate)
                {
                    return _record?.HolderIdentity;
                }
            }
        }

        public void TakenBy(string other)
        {
            lock (_gate)
            {
                _heldElsewhere = true;
                _record = Record(other);
            }
        }

        public void Released()
        {
            lock (_gate)
            {
                _heldElsewhere = false;
                _record = null;
            }
        }

        public Task<LeaderElectionRecord> GetAsync(CancellationToken cancellationToken = default)
        {
            lock (_gate)
            {
                // Another holder keeps renewing, so its lease never looks expired.
                if (_heldElsewhere && _record is not null)
                {
                    _record = Record(_record.HolderIdentity);
                }

                return Task.FromResult(_record is null ? null! : Copy(_record));
            }
        }

        public Task<bool> CreateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
        {
            lock (_gate)
            {
                if (_record is not null)
                {
                    return Task.FromResult(false);
                }

                _record = Copy(record);
                return Task.FromResult(true);
            }
        }

        public Task<bool> UpdateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
        {
            lock (_gate)
            {
                if (_heldElsewhere)
                {
                    return Task.FromResult(false);
                }

                _record = Copy(record);
                return Task.FromResult(true);
            }
        }

        public string Describe() => $"in-memory lease held by {Holder}";

        private static LeaderElectionRecord Record(string holder) => new()
        {
            HolderIdentity = holder,
            LeaseDurationSeconds = 1,
            AcquireTime = DateTime.UtcNow,
            RenewTime = DateTime.UtcNow,
        };

        private static LeaderElectionRecord Copy(LeaderElectionRecord record) => new()
        {
            HolderIdentity = record.HolderIdentity,
            LeaseDurationSeconds = record.LeaseDurationSeconds,
            AcquireTime = record.AcquireTime,
            RenewTime = record.RenewTime,
            LeaderTransitions = record.LeaderTransitions,
        };
    }
}
