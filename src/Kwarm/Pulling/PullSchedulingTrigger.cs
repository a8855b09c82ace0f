namespace Kwarm.Pulling;

/// <summary>
/// How anything asks the scheduling loop for a pass: the per-PrePullImage reconciler after it records new demand, the
/// event mapping when a slot may have opened, the loop itself after a refused create. It only carries the request to
/// the loop's queue (attached by the term's wiring); it knows nothing of what a pass does.
/// </summary>
public sealed class PullSchedulingTrigger
{
    private Action<TimeSpan> _request = _ => { };

    /// <summary>Where requests go: the scheduling loop's work queue of this leadership term.</summary>
    public void Attach(Action<TimeSpan> request) => _request = request ?? throw new ArgumentNullException(nameof(request));

    /// <summary>Asks for a pass as soon as a worker is free.</summary>
    public void Request() => _request(TimeSpan.Zero);

    /// <summary>Asks for a pass after <paramref name="delay"/> (the end of a create backoff).</summary>
    public void RequestAfter(TimeSpan delay) => _request(delay);
}
