using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>
/// The PrePullImages a hold needs: one per distinct image of the pod template (containers and init containers),
/// aimed at the nodes the workload's pods can run on and pulling with the pods' own identity and secrets.
/// Pure: the same workload, policy and service account give the same objects.
/// </summary>
/// <remarks>
/// Per kind (issue #16): owned by the workload (apps/v1, controller reference), labelled <c>kwarm.io/deployment</c>,
/// <c>kwarm.io/statefulset</c> or <c>kwarm.io/daemonset</c> with its name, the full name in the annotation of the same key.
/// A DaemonSet's pull pods go where its daemon pods go: its template's tolerations plus the ones the DaemonSet controller
/// adds to every daemon pod (<see cref="PodPullSettings.DaemonPodTolerations"/>).
/// </remarks>
public static class PrePullImagePlanner
{
    /// <summary>The annotation holding the Deployment's real name, for when the label value had to be shortened.</summary>
    public const string DeploymentNameAnnotation = KwarmApi.DeploymentLabel;

    /// <summary>The image set of the Deployment's pod template (<see cref="PodTemplateImages"/>): the webhook's hold id is computed over the same list.</summary>
    public static IReadOnlyList<string> Images(V1Deployment deployment) => Images(WorkloadObject.Of(deployment));

    /// <summary>The image set of the workload's pod template (<see cref="PodTemplateImages"/>): the webhook's hold id is computed over the same list.</summary>
    public static IReadOnlyList<string> Images(WorkloadObject workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return PodTemplateImages.Of(workload.PodSpec).Images;
    }

    public static IReadOnlyList<PrePullImage> Plan(V1Deployment deployment, string holdId, PrePullPolicySpec policy, V1ServiceAccount? serviceAccount) =>
        Plan(WorkloadObject.Of(deployment), holdId, policy, serviceAccount);

    public static IReadOnlyList<PrePullImage> Plan(WorkloadObject workload, string holdId, PrePullPolicySpec policy, V1ServiceAccount? serviceAccount)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(policy);
        var podSpec = workload.PodSpec ?? new V1PodSpec();
        var name = workload.Metadata.Name;
        var kind = workload.Kind;
        var nodes = PodPullSettings.Targets(policy.NodeSelector, podSpec);
        var secrets = PodPullSettings.PullSecrets(policy, podSpec, serviceAccount);
        IEnumerable<V1Toleration>? tolerations = kind == WorkloadKind.DaemonSet ? PodPullSettings.DaemonPodTolerations(podSpec) : podSpec.Tolerations;
        return Images(workload)
            .Select(image => new PrePullImage
            {
                Metadata = new V1ObjectMeta
                {
                    Name = HoldNames.PrePullImage(kind, name, holdId, image),
                    NamespaceProperty = workload.Metadata.NamespaceProperty,
                    Labels = Labels(kind, name, holdId),
                    Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [HoldMechanics.OwnerLabel(kind)] = name },
                    OwnerReferences =
                    [
                        new V1OwnerReference
                        {
                            ApiVersion = "apps/v1",
                            Kind = kind.ToString(),
                            Name = name,
                            Uid = workload.Metadata.Uid,
                            Controller = true,
                        },
                    ],
                },
                Spec = new PrePullImageSpec
                {
                    Image = image,
                    Nodes = nodes,
                    Tolerations = tolerations?.Any() == true ? [.. tolerations] : null,
                    ImagePullSecrets = secrets.Count > 0 ? [.. secrets] : null,
                    ServiceAccountName = string.IsNullOrEmpty(podSpec.ServiceAccountName) ? null : podSpec.ServiceAccountName,
                    Resources = policy.EffectiveResources,
                    Retry = policy.EffectiveRetry,
                    Timeout = GoDuration.Format(policy.EffectiveTimeout),
                    PriorityClassName = policy.EffectivePriorityClassName,
                    ImagePullPolicy = PodPullSettings.PullPolicy(podSpec, image),
                },
            })
            .ToList();
    }

    /// <summary>Labels of a hold's PrePullImages; <c>kwarm.io/deployment</c> is always a valid label value.</summary>
    public static Dictionary<string, string> Labels(string deploymentName, string holdId) => Labels(WorkloadKind.Deployment, deploymentName, holdId);

    /// <summary>Labels of a hold's PrePullImages: the workload's kind label with its (possibly shortened) name, the hold id, managed-by.</summary>
    public static Dictionary<string, string> Labels(WorkloadKind kind, string workloadName, string holdId) => new(StringComparer.Ordinal)
    {
        [HoldMechanics.OwnerLabel(kind)] = HoldNames.WorkloadLabelValue(workloadName),
        [KwarmApi.HoldLabel] = holdId,
        [ManagedObjects.Label] = ManagedObjects.Value,
    };

    /// <summary>Whether <paramref name="image"/> was made by the hold controller for the Deployment <paramref name="deploymentName"/>.</summary>
    public static bool BelongsTo(PrePullImage image, string deploymentName) => BelongsTo(image, WorkloadKind.Deployment, deploymentName);

    /// <summary>Whether <paramref name="image"/> was made by the hold controller for the workload of this kind and name.</summary>
    public static bool BelongsTo(PrePullImage image, WorkloadKind kind, string workloadName)
    {
        ArgumentNullException.ThrowIfNull(image);
        var metadata = image.Metadata;
        if (metadata?.Labels?.TryGetValue(HoldMechanics.OwnerLabel(kind), out var label) != true
            || !string.Equals(label, HoldNames.WorkloadLabelValue(workloadName), StringComparison.Ordinal))
        {
            return false;
        }

        // A shortened label value could in theory be shared: the annotation or the owner names the workload exactly.
        return Owner(image) is { } owner && owner.Kind == kind && string.Equals(owner.Name, workloadName, StringComparison.Ordinal);
    }

    /// <summary>The Deployment a PrePullImage was made for: its controller owner, else the name annotation.</summary>
    public static string? OwnerDeploymentName(PrePullImage image) => Owner(image) is { Kind: WorkloadKind.Deployment } owner ? owner.Name : null;

    /// <summary>The workload a PrePullImage was made for: its apps/v1 controller owner, else the kind's name annotation of a hold's PrePullImage.</summary>
    public static (WorkloadKind Kind, string Name)? Owner(PrePullImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var owner = image.Metadata?.OwnerReferences?.FirstOrDefault(reference => reference.Controller == true && HoldMechanics.KindOf("apps", reference.Kind) is not null);
        if (owner?.Name is { Length: > 0 } ownerName)
        {
            return (HoldMechanics.KindOf("apps", owner.Kind)!.Value, ownerName);
        }

        if (image.Metadata?.Labels?.ContainsKey(KwarmApi.HoldLabel) != true)
        {
            return null;
        }

        foreach (var kind in Enum.GetValues<WorkloadKind>())
        {
            if (image.Metadata.Annotations?.TryGetValue(HoldMechanics.OwnerLabel(kind), out var annotated) == true)
            {
                return (kind, annotated);
            }
        }

        return null;
    }

    /// <summary>The service account the pods run as: the template's, else <c>default</c>.</summary>
    public static string ServiceAccountName(V1Deployment deployment) => ServiceAccountName(WorkloadObject.Of(deployment));

    /// <summary>The service account the pods run as: the template's, else <c>default</c>.</summary>
    public static string ServiceAccountName(WorkloadObject workload) =>
        workload?.PodSpec?.ServiceAccountName is { Length: > 0 } name ? name : "default";
}
