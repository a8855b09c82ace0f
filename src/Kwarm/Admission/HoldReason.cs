
namespace Kwarm.Admission;

/// <summary>Why the webhook answered as it did; logged, and asserted on by the contract tests.</summary>
public enum HoldReason
{
    /// <summary>A <c>deployments/scale</c> write (kubectl scale, HPA): never held.</summary>
    Subresource,
    NotADeployment,
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
    /// <summary>A full replace (GitOps) dropped an active hold: it is put back.</summary>
    HoldRestored,
    PausedByUser,
    ZeroReplicas,
    HoldDisabled,
    /// <summary>No container image could be read (the API server rejects such an object anyway): nothing to pre-pull.</summary>
    NoImages,
    /// <summary>An image reference no runtime can pull: not held (the rollout would fail either way), with a warning saying why.</summary>
    UnparsableImage,
    /// <summary>New images: the rollout is held.</summary>
    ImagesChanged,
}
