namespace Kwarm.Runtime;

/// <summary>
/// The rate limiting of <see cref="WorkQueue{TKey}.AddRateLimited"/>; the defaults are client-go's
/// <c>DefaultControllerRateLimiter</c>: the larger of a per-key exponential backoff (5 ms doubling to 1000 s) and an
/// overall token bucket (10 per second, bursts of 100), so one failing key backs off on its own while a mass failure
/// (the API server down, every key failing) cannot retry faster than 10 keys a second.
/// </summary>
public sealed record WorkQueueOptions
{
    /// <summary>Delay before the first retry of a failing key; doubles with every further failure.</summary>
    public TimeSpan BaseRetryDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(1000);

    /// <summary>Rate-limited adds per second, across all keys, once the burst is spent.</summary>
    public double OverallRetriesPerSecond { get; init; } = 10;

    /// <summary>Rate-limited adds allowed at once before <see cref="OverallRetriesPerSecond"/> applies.</summary>
    public int OverallRetryBurst { get; init; } = 100;
}
