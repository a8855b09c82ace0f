namespace Kwarm.Pulling;

/// <summary>
/// The one key of the scheduling loop's work queue: "a pass is due". A queue holds a key once, so any number of
/// requests before a pass starts coalesce into that pass, and the queue never hands the key to two workers, so passes
/// never overlap. Its own type (not a string next to the PrePullImage keys) keeps it from being mistaken for an object.
/// </summary>
public sealed record PullSchedulingPass
{
    public static PullSchedulingPass Due { get; } = new();

    private PullSchedulingPass()
    {
    }
}
