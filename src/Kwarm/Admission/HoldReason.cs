
namespace Kwarm.Admission;

/// <summary>Why the webhook answered as it did; logged, and asserted on by the contract tests.</summary>
public enum HoldReason
{
    /// <summary>A subresource write (<c>deployments/scale</c> by kubectl scale or an HPA): never held.</summary>
    Subresource,
    /// <summary>Not an apps/v1 Deployment, StatefulSet or DaemonSet (or no object): allowed as it is.</summary>
    NotAWorkload,
    NoMatchingPolicy,
    SkipAnnotation,
    KwarmIdentity,
    /// <summary>DELETE, CONNECT, or an UPDATE without its old object: nothing to hold.</summary>
    UnsupportedOperation,
    CreateWithoutHoldOnCreate,
    ImagesUnchanged,
    /// <summary>Kwarm's own release write: the hold annotations replaced by <c>kwarm.io/released: &lt;id&gt;</c>.</summary>
    ReleasedByKwarm,
    /// <summary>Someone ran <c>rollout resume</c> during a hold; the controller treats it as a release.</summary>
    ResumedDuringHold,
    /// <summary>
    /// A write dropped an active hold (a full replace by a GitOps tool; for a StatefulSet or DaemonSet also a partition or
    /// strategy written over the hold's): it is put back.
    /// </summary>
    HoldRestored,
    /// <summary>A Deployment paused by someone else: never held, never unpaused.</summary>
    PausedByUser,
    /// <summary>A StatefulSet whose partition is already at or above its replicas without a Kwarm hold: the user stages the rollout by hand.</summary>
    PartitionedByUser,
    /// <summary>A StatefulSet or DaemonSet with the user's own <c>OnDelete</c> strategy: pre-pulled without a hold, nothing changes on it.</summary>
    OnDeleteStrategy,
    ZeroReplicas,
    HoldDisabled,
    /// <summary>No container image could be read (the API server rejects such an object anyway): nothing to pre-pull.</summary>
    NoImages,
    /// <summary>An image reference no runtime can pull: not held (the rollout would fail either way), with a warning saying why.</summary>
    UnparsableImage,
    /// <summary>New images: the rollout is held.</summary>
    ImagesChanged,
}
