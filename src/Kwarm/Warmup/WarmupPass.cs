namespace Kwarm.Warmup;

/// <summary>
/// The one key of the warm-up's work queue: "look at the warming nodes again". Every warming node shares the
/// warm-up PrePullImages (one per namespace and image), so one pass decides them all; a queue holds a key once, so
/// bursts of events coalesce into one pass, and passes never overlap.
/// </summary>
public sealed record WarmupPass
{
    public static WarmupPass Due { get; } = new();

    private WarmupPass()
    {
    }
}
