using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Runtime;

/// <summary>AddRateLimited: the larger of the per-key backoff and the overall token bucket, as client-go's default controller rate limiter.</summary>
public sealed class WorkQueueRateLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void The_defaults_are_client_gos_default_controller_rate_limiter()
    {
        var options = new WorkQueueOptions();

        Assert.Equal(TimeSpan.FromMilliseconds(5), options.BaseRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(1000), options.MaxRetryDelay);
        Assert.Equal(10, options.OverallRetriesPerSecond);
        Assert.Equal(100, options.OverallRetryBurst);
    }

    [Fact]
    public void Once_the_burst_is_spent_the_overall_bucket_outweighs_a_short_per_key_backoff()
    {
        using var queue = new WorkQueue<string>(new WorkQueueOptions { OverallRetriesPerSecond = 10, OverallRetryBurst = 2 }, _time);

        queue.AddRateLimited("a");
        queue.AddRateLimited("b");
        queue.AddRateLimited("c");

        _time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(2, queue.Count);
        _time.Advance(TimeSpan.FromMilliseconds(94));
        Assert.Equal(2, queue.Count);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(3, queue.Count);
    }

    [Fact]
    public async Task A_key_that_keeps_failing_backs_off_to_1000_seconds()
    {
        using var queue = new WorkQueue<string>(new WorkQueueOptions(), _time);
        for (var failure = 0; failure < 29; failure++)
        {
            queue.AddRateLimited("a");
            _time.Advance(TimeSpan.FromSeconds(1000));
            var item = await queue.GetAsync(TestContext.Current.CancellationToken);
            queue.Done(item!.Key);
        }

        // The 30th failure: 5 ms × 2^29 is far past the cap.
        queue.AddRateLimited("a");
        _time.Advance(TimeSpan.FromSeconds(1000) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, queue.Count);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, queue.Count);
        Assert.Equal(30, queue.NumRequeues("a"));
    }
}
