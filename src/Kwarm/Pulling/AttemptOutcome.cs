
namespace Kwarm.Pulling;

/// <summary>What one pull Job (and its pod) says about its attempt.</summary>
/// <param name="Error">For a failure: the kubelet's own message (or the Job's), as reported.</param>
/// <param name="PulledAt">For a pull: when the container was started, when the pod says so.</param>
public sealed record AttemptOutcome(AttemptState State, string? Error = null, DateTime? PulledAt = null)
{
    public static AttemptOutcome Running { get; } = new(AttemptState.Running);
}
