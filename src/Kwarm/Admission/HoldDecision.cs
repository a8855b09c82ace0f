using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Admission;

/// <summary>
/// The webhook's decision for one admission request (DESIGN §4), as a pure function of the request, the
/// policy that selects the Deployment, and Kwarm's own identity. No clock, no I/O: a dry run and the real
/// request get the same answer, byte for byte.
/// </summary>
public sealed record HoldDecision(HoldReason Reason, IReadOnlyList<JsonPatchOperation> Patch, string? HoldId = null, string? PolicyName = null)
{
    private const string PausedPath = "/spec/paused";
    private const string AnnotationsPath = "/metadata/annotations";

    public bool Holds => Patch.Count > 0;

    /// <summary>What to tell the person who made the change when Kwarm does not hold it for a reason they should know.</summary>
    public string? Warning { get; init; }

    /// <summary>Decides from the request's <c>object</c> and <c>oldObject</c> elements.</summary>
    public static HoldDecision Decide(AdmissionRequest request, PrePullPolicy? policy, KwarmIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Decide(
            request,
            request.Object is { } updated ? DeploymentSnapshot.Read(updated) : null,
            request.OldObject is { } previous ? DeploymentSnapshot.Read(previous) : null,
            policy,
            identity);
    }

    /// <param name="request">The envelope; its <c>object</c> and <c>oldObject</c> are not read here.</param>
    /// <param name="updated">The request's object, null when the request has none.</param>
    /// <param name="previous">The request's old object, null when the request has none.</param>
    internal static HoldDecision Decide(AdmissionRequest request, DeploymentSnapshot? updated, DeploymentSnapshot? previous, PrePullPolicy? policy, KwarmIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(identity);

        if (!string.IsNullOrEmpty(request.SubResource))
        {
            return Allow(HoldReason.Subresource);
        }

        if (!IsDeployment(request) || updated is null)
        {
            return Allow(HoldReason.NotADeployment);
        }

        if (policy is null)
        {
            return Allow(HoldReason.NoMatchingPolicy);
        }

        if (updated.Skipped)
        {
            return Allow(HoldReason.SkipAnnotation);
        }

        if (identity.Is(request.UserInfo))
        {
            return Allow(HoldReason.KwarmIdentity);
        }

        var hold = policy.Spec?.Hold;
        var holdEnabled = hold?.Enabled ?? true;
        switch (request.Operation)
        {
            case AdmissionRequest.Create:
                return hold?.OnCreate == true
                    ? DecideImageChange(updated, previous: null, policy, holdEnabled)
                    : Allow(HoldReason.CreateWithoutHoldOnCreate);
            case AdmissionRequest.Update when previous is not null:
                return updated.HasSameImages(previous)
                    ? DecideSameImages(updated, previous, policy, holdEnabled)
                    : DecideImageChange(updated, previous, policy, holdEnabled);
            default:
                return Allow(HoldReason.UnsupportedOperation);
        }
    }

    private static HoldDecision DecideSameImages(DeploymentSnapshot updated, DeploymentSnapshot previous, PrePullPolicy policy, bool holdEnabled)
    {
        if (!previous.HasActiveHold)
        {
            return Allow(HoldReason.ImagesUnchanged);
        }

        var previousHold = previous.HoldId!;
        if (updated.HoldId is null && !updated.Paused)
        {
            if (string.Equals(updated.ReleasedHoldId, previousHold, StringComparison.Ordinal))
            {
                return Allow(HoldReason.ReleasedByKwarm);
            }

            // A full replace (kubectl replace, Argo CD Replace=true) drops fields no manager owns, the webhook's
            // included; without this the rollout would start with images that are not on the nodes yet.
            return holdEnabled
                ? Place(updated, previous, previousHold, policy, HoldReason.HoldRestored)
                : Allow(HoldReason.HoldDisabled);
        }

        if (updated.HoldId is not null && !updated.Paused)
        {
            return Allow(HoldReason.ResumedDuringHold);
        }

        return Allow(HoldReason.ImagesUnchanged);
    }

    private static HoldDecision DecideImageChange(DeploymentSnapshot updated, DeploymentSnapshot? previous, PrePullPolicy policy, bool holdEnabled)
    {
        // Paused by someone else, before or in this very request: Kwarm's release would unpause it, so no hold.
        if (updated.PausedWithoutHold || previous?.PausedWithoutHold == true)
        {
            return Allow(HoldReason.PausedByUser);
        }

        if (updated.Images.Count == 0)
        {
            return Allow(HoldReason.NoImages);
        }

        if (updated.UnparsableImages.Count > 0)
        {
            return new HoldDecision(HoldReason.UnparsableImage, [])
            {
                Warning = "kwarm: not held: " + string.Join("; ", updated.UnparsableImages),
            };
        }

        if (updated.Replicas == 0)
        {
            return Allow(HoldReason.ZeroReplicas);
        }

        if (!holdEnabled)
        {
            return Allow(HoldReason.HoldDisabled);
        }

        return Place(updated, previous, Kwarm.Workloads.HoldId.For(updated.Images), policy, HoldReason.ImagesChanged);
    }

    /// <summary>
    /// Holds: paused, hold id and policy. When the write dropped the hold controller's <c>kwarm.io/hold-started</c>
    /// record (a full replace), it is carried over from the old object: it is the only record of when the current (or,
    /// for an image change, the superseded) hold began, which its deadline and its HoldReleased event depend on.
    /// Copied, never made up here: the answer stays free of clocks.
    /// </summary>
    private static HoldDecision Place(DeploymentSnapshot updated, DeploymentSnapshot? previous, string holdId, PrePullPolicy policy, HoldReason reason)
    {
        var policyName = policy.Metadata?.Name ?? "";
        var carriedStart = updated.HoldStarted is null && previous?.HoldId is not null ? previous.HoldStarted : null;
        List<JsonPatchOperation> patch = [JsonPatchOperation.Add(PausedPath, true)];
        if (updated.HasAnnotationsMap)
        {
            patch.Add(JsonPatchOperation.Add(AnnotationPath(KwarmApi.HoldAnnotation), holdId));
            patch.Add(JsonPatchOperation.Add(AnnotationPath(KwarmApi.PolicyAnnotation), policyName));
            if (carriedStart is not null)
            {
                patch.Add(JsonPatchOperation.Add(AnnotationPath(KwarmApi.HoldStartedAnnotation), carriedStart));
            }
        }
        else
        {
            var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [KwarmApi.HoldAnnotation] = holdId,
                [KwarmApi.PolicyAnnotation] = policyName,
            };
            if (carriedStart is not null)
            {
                annotations[KwarmApi.HoldStartedAnnotation] = carriedStart;
            }

            patch.Add(JsonPatchOperation.Add(AnnotationsPath, annotations));
        }

        return new HoldDecision(reason, patch, holdId, policyName);
    }

    private static string AnnotationPath(string key) => JsonPatchOperation.AnnotationPath(key);

    private static HoldDecision Allow(HoldReason reason) => new(reason, []);

    public static bool IsDeployment(AdmissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Kind is { Group: "apps", Kind: "Deployment" };
    }
}
