namespace Kwarm.Runtime;

/// <summary>
/// A token bucket on the injected <see cref="TimeProvider"/>, as Go's <c>rate.Limiter</c> that client-go's default
/// controller rate limiter uses: it starts full with <c>burst</c> tokens and refills at <c>tokensPerSecond</c>.
/// <see cref="Reserve"/> always takes a token, going into debt when none is left, and answers how long the caller
/// must wait for it; so a flood of callers is spread out at the refill rate rather than refused.
/// </summary>
public sealed class TokenBucket
{
    private readonly double _tokensPerSecond;
    private readonly int _burst;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(double tokensPerSecond, int burst, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(tokensPerSecond, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _tokensPerSecond = tokensPerSecond;
        _burst = burst;
        _timeProvider = timeProvider;
        _tokens = burst;
        _lastRefill = timeProvider.GetTimestamp();
    }

    /// <summary>Takes one token; returns zero when one was there, else how long until the debt is paid back.</summary>
    public TimeSpan Reserve()
    {
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            var elapsed = _timeProvider.GetElapsedTime(_lastRefill, now);
            _lastRefill = now;
            _tokens = Math.Min(_burst, _tokens + (elapsed.TotalSeconds * _tokensPerSecond));
            _tokens -= 1;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _tokensPerSecond);
        }
    }
}
