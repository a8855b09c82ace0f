using Kwarm.Kubernetes;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Runtime;

public sealed class WorkQueueTests
{
    private readonly FakeTimeProvider _time = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_key_added_many_times_is_queued_once()
    {
        using var queue = NewQueue();
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");

        Assert.Equal(2, queue.Count);
        Assert.Equal("a", (await queue.GetAsync(Token))!.Key);
        Assert.Equal("b", (await queue.GetAsync(Token))!.Key);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_key_added_while_in_flight_waits_for_Done_and_comes_back_once()
    {
        using var queue = NewQueue();
        queue.Add("a");
        var item = await queue.GetAsync(Token);

        queue.Add("a");
        queue.Add("a");
        Assert.Equal(0, queue.Count);

        queue.Done(item!.Key);
        Assert.Equal(1, queue.Count);
        Assert.Equal("a", (await queue.GetAsync(Token))!.Key);
        queue.Done("a");
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task A_waiting_worker_gets_the_next_key_added()
    {
        using var queue = NewQueue();
        var waiting = queue.GetAsync(Token);
        Assert.False(waiting.IsCompleted);

        queue.Add("a");

        Assert.Equal("a", (await waiting.WaitAsync(TimeSpan.FromSeconds(5), Token))!.Key);
    }

    [Fact]
    public async Task A_cancelled_wait_does_not_swallow_a_key()
    {
        using var queue = NewQueue();
        using var cancel = new CancellationTokenSource();
        var waiting = queue.GetAsync(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        queue.Add("a");

        Assert.Equal(1, queue.Count);
        Assert.Equal("a", (await queue.GetAsync(Token))!.Key);
    }

    [Fact]
    public void Rate_limited_adds_back_off_exponentially_up_to_the_cap_until_forgotten()
    {
        using var queue = NewQueue(new WorkQueueOptions { BaseRetryDelay = TimeSpan.FromMilliseconds(10), MaxRetryDelay = TimeSpan.FromMilliseconds(40) });

        Assert.Equal(TimeSpan.FromMilliseconds(10), MeasureRateLimitedDelay(queue, "a"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), MeasureRateLimitedDelay(queue, "a"));
        Assert.Equal(TimeSpan.FromMilliseconds(40), MeasureRateLimitedDelay(queue, "a"));
        Assert.Equal(TimeSpan.FromMilliseconds(40), MeasureRateLimitedDelay(queue, "a"));
        Assert.Equal(4, queue.NumRequeues("a"));
        Assert.Equal(0, queue.NumRequeues("b"));

        queue.Forget("a");

        Assert.Equal(0, queue.NumRequeues("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), MeasureRateLimitedDelay(queue, "a"));
    }

    [Fact]
    public async Task A_delayed_key_appears_when_its_time_comes_and_the_earliest_time_wins()
    {
        using var queue = NewQueue();
        queue.AddAfter("a", TimeSpan.FromSeconds(10));
        queue.AddAfter("a", TimeSpan.FromSeconds(30));
        queue.AddAfter("b", TimeSpan.FromSeconds(30));
        queue.AddAfter("b", TimeSpan.FromSeconds(5));

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0, queue.Count);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("b", (await queue.GetAsync(Token))!.Key);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("a", (await queue.GetAsync(Token))!.Key);

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void A_delayed_key_already_queued_is_not_queued_twice()
    {
        using var queue = NewQueue();
        queue.AddAfter("a", TimeSpan.FromSeconds(1));
        queue.Add("a");
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public async Task Shut_down_releases_waiting_workers_drops_pending_keys_and_waits_for_keys_in_flight()
    {
        using var queue = NewQueue();
        queue.Add("a");
        var inFlight = await queue.GetAsync(Token);
        queue.Add("b");
        queue.AddAfter("c", TimeSpan.FromSeconds(1));

        var drained = queue.ShutDownAsync();

        Assert.False(drained.IsCompleted);
        Assert.Null(await queue.GetAsync(Token));
        queue.Add("d");
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, queue.Count);

        queue.Done(inFlight!.Key);
        await drained.WaitAsync(TimeSpan.FromSeconds(5), Token);
    }

    [Fact]
    public async Task Runner_never_reconciles_one_key_twice_at_once_and_runs_it_again_after_a_change_in_flight()
    {
        using var queue = NewQueue();
        var concurrent = 0;
        var maxConcurrent = 0;
        var runs = 0;
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task<ReconcileResult> Reconcile(string key, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref maxConcurrent, now);
            var run = Interlocked.Increment(ref runs);
            var (started, release) = run == 1 ? (firstStarted, releaseFirst) : (secondStarted, releaseSecond);
            started.TrySetResult();
            await release.Task;
            Interlocked.Decrement(ref concurrent);
            return ReconcileResult.Done;
        }

        using var stop = new CancellationTokenSource();
        var runner = new ReconcileRunner<string>("test", queue, Reconcile, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var running = runner.RunAsync(workers: 4, stop.Token);

        queue.Add("a");
        await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        queue.Add("a");
        queue.Add("a");
        // In flight, the two adds only mark the key for one more run: nothing is queued for the three idle workers.
        Assert.Equal(0, queue.Count);
        Assert.Equal(1, Volatile.Read(ref runs));

        releaseFirst.SetResult();
        await secondStarted.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        // The second run took the mark; with it in flight nothing else is queued, and nothing adds the key again.
        Assert.Equal(0, queue.Count);
        Assert.Equal(2, Volatile.Read(ref runs));

        releaseSecond.SetResult();
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.Equal(2, Volatile.Read(ref runs));
        Assert.Equal(1, maxConcurrent);
    }

    [Fact]
    public async Task Runner_requeues_a_failed_key_with_backoff_and_forgets_it_after_success()
    {
        using var queue = NewQueue(new WorkQueueOptions { BaseRetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromMinutes(1) });
        var attempts = 0;
        var succeeded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failedOnce = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task<ReconcileResult> Reconcile(string key, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                failedOnce.SetResult();
                throw new ApiConflictException("web", "Conflict", "stale", null);
            }

            succeeded.SetResult();
            return Task.FromResult(ReconcileResult.Done);
        }

        using var stop = new CancellationTokenSource();
        var runner = new ReconcileRunner<string>("test", queue, Reconcile, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var running = runner.RunAsync(workers: 2, stop.Token);
        queue.Add("a");
        await failedOnce.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        await WaitUntilAsync(() => queue.NumRequeues("a") == 1);

        Assert.Equal(1, queue.DelayedCount);

        // Fake timers fire inside Advance, so right after it the key is either still delayed or already handed out.
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1, queue.DelayedCount);
        Assert.Equal(1, Volatile.Read(ref attempts));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, queue.DelayedCount);
        await succeeded.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        await WaitUntilAsync(() => queue.NumRequeues("a") == 0);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.True(queue.IsShuttingDown);
    }

    [Fact]
    public async Task Runner_stops_on_cancellation_after_the_reconcile_in_flight_has_finished()
    {
        using var queue = NewQueue();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawCancellation = false;

        async Task<ReconcileResult> Reconcile(string key, CancellationToken cancellationToken)
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                sawCancellation = true;
                throw;
            }

            return ReconcileResult.Done;
        }

        using var stop = new CancellationTokenSource();
        var runner = new ReconcileRunner<string>("test", queue, Reconcile, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var running = runner.RunAsync(workers: 2, stop.Token);
        queue.Add("a");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5), Token);

        Assert.True(sawCancellation);
        Assert.Equal(0, queue.NumRequeues("a"));
    }

    private WorkQueue<string> NewQueue(WorkQueueOptions? options = null) => new(options ?? new WorkQueueOptions(), _time);

    /// <summary>How long after AddRateLimited the key becomes ready, on the fake clock, in 1 ms steps.</summary>
    private TimeSpan MeasureRateLimitedDelay(WorkQueue<string> queue, string key)
    {
        queue.AddRateLimited(key);
        var waited = TimeSpan.Zero;
        while (queue.Count == 0)
        {
            Assert.True(waited < TimeSpan.FromSeconds(1), "the key never became ready");
            _time.Advance(TimeSpan.FromMilliseconds(1));
            waited += TimeSpan.FromMilliseconds(1);
        }

        var item = queue.GetAsync(Token).Result;
        queue.Done(item!.Key);
        return waited;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition) => Eventually.WaitUntilAsync(condition, "the queue's state");
}
