namespace Kwarm.Holds;

/// <summary>Why a hold ended; the value is the event reason, the message word and the metric label (DESIGN §5).</summary>
public enum ReleaseReason
{
    /// <summary>Every PrePullImage of the hold completed.</summary>
    Warm,

    /// <summary>Every PrePullImage is done, some failed, and the policy says <c>onFailure: Release</c>.</summary>
    PullFailed,

    /// <summary><c>hold.maxDuration</c> passed: Kwarm fails open.</summary>
    Timeout,

    /// <summary>A person asked: <c>kwarm.io/release: "true"</c>, <c>rollout resume</c>, <c>kwarm.io/skip</c>, or the policy is gone.</summary>
    Released,

    /// <summary>An image change during the hold replaced it with a new hold (a new id, or the same id again later).</summary>
    Superseded,
}
