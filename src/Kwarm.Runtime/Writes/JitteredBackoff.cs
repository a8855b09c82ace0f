namespace Kwarm.Runtime;

/// <summary>
/// Exponential backoff with "equal jitter": the n-th delay is drawn from [d/2, d] where
/// d = min(cap, initial × 2ⁿ), so that replicas reconnecting after one API-server hiccup spread out
/// instead of arriving together, and no delay ever exceeds the cap. Not thread-safe: one per loop.
/// </summary>
public sealed class JitteredBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _cap;
    private readonly Func<double> _random;
    private int _attempt;

    public JitteredBackoff(TimeSpan initial, TimeSpan cap, Func<double>? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(cap, initial);
        _initial = initial;
        _cap = cap;
        _random = random ?? Random.Shared.NextDouble;
    }

    public TimeSpan Next()
    {
        var ceiling = Ceiling(_attempt);
        if (ceiling < _cap)
        {
            _attempt++;
        }

        return ceiling * (0.5 + (0.5 * _random()));
    }

    /// <summary>Called after progress (a successful list, an event received) so the next failure starts small again.</summary>
    public void Reset() => _attempt = 0;

    private TimeSpan Ceiling(int attempt)
    {
        var scaled = _initial.TotalMilliseconds * Math.Pow(2, attempt);
        return scaled >= _cap.TotalMilliseconds ? _cap : TimeSpan.FromMilliseconds(scaled);
    }
}
