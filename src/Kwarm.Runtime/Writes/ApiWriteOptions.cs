namespace Kwarm.Runtime;

public sealed record ApiWriteOptions
{
    /// <summary>Retries after the first attempt.</summary>
    public int MaxRetryAttempts { get; init; } = 4;

    /// <summary>First backoff delay; exponential with jitter from there.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Each attempt is abandoned (and retried) after this long.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A server's <c>Retry-After</c> is honoured up to this long, so a bad header cannot stall a worker for hours.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);
}
