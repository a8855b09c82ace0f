using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>
/// The PrePullImages a hold needs: one per distinct image of the pod template (containers and init containers),
/// aimed at the nodes the Deployment's pods can run on and pulling with the pods' own identity and secrets.
/// Pure: the same Deployment, policy and service account give the same objects.
/// </summary>
public static class PrePullImagePlanner
{
    /// <summary>The annotation holding the Deployment's real name, for when the label value had to be shortened.</summary>
    public const string DeploymentNameAnnotation = KwarmApi.DeploymentLabel;

    private static readonly HashSet<string> LabelSelectorOperators =
        new([LabelSelectors.In, LabelSelectors.NotIn, LabelSelectors.Exists, LabelSelectors.DoesNotExist], StringComparer.Ordinal);

    /// <summary>The image set of the Deployment's pod template (<see cref="PodTemplateImages"/>): the webhook's hold id is computed over the same list.</summary>
    public static IReadOnlyList<string> Images(V1Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return PodTemplateImages.Of(deployment.Spec?.Template?.Spec).Images;
    }

    public static IReadOnlyList<PrePullImage> Plan(V1Deployment deployment, string holdId, PrePullPolicySpec policy, V1ServiceAccount? serviceAccount)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(policy);
        var podSpec = deployment.Spec?.Template?.Spec ?? new V1PodSpec();
        var name = deployment.Metadata.Name;
        var nodes = Targets(policy.NodeSelector, podSpec);
        var secrets = PullSecrets(policy, podSpec, serviceAccount);
        return Images(deployment)
            .Select(image => new PrePullImage
            {
                Metadata = new V1ObjectMeta
                {
                    Name = HoldNames.PrePullImage(name, holdId, image),
                    NamespaceProperty = deployment.Metadata.NamespaceProperty,
                    Labels = Labels(name, holdId),
                    Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [DeploymentNameAnnotation] = name },
                    OwnerReferences =
                    [
                        new V1OwnerReference
                        {
                            ApiVersion = "apps/v1",
                            Kind = "Deployment",
                            Name = name,
                            Uid = deployment.Metadata.Uid,
                            Controller = true,
                        },
                    ],
                },
                Spec = new PrePullImageSpec
                {
                    Image = image,
                    Nodes = nodes,
                    Tolerations = podSpec.Tolerations is { Count: > 0 } tolerations ? [.. tolerations] : null,
                    ImagePullSecrets = secrets.Count > 0 ? [.. secrets] : null,
                    ServiceAccountName = string.IsNullOrEmpty(podSpec.ServiceAccountName) ? null : podSpec.ServiceAccountName,
                    Resources = policy.EffectiveResources,
                    Retry = policy.EffectiveRetry,
                    Timeout = GoDuration.Format(policy.EffectiveTimeout),
                    PriorityClassName = policy.EffectivePriorityClassName,
                    ImagePullPolicy = PullPolicy(podSpec, image),
                },
            })
            .ToList();
    }

    /// <summary>Labels of a hold's PrePullImages; <c>kwarm.io/deployment</c> is always a valid label value.</summary>
    public static Dictionary<string, string> Labels(string deploymentName, string holdId) => new(StringComparer.Ordinal)
    {
        [KwarmApi.DeploymentLabel] = HoldNames.DeploymentLabelValue(deploymentName),
        [KwarmApi.HoldLabel] = holdId,
        [ManagedObjects.Label] = ManagedObjects.Value,
    };

    /// <summary>Whether <paramref name="image"/> was made by the hold controller for the Deployment <paramref name="deploymentName"/>.</summary>
    public static bool BelongsTo(PrePullImage image, string deploymentName)
    {
        ArgumentNullException.ThrowIfNull(image);
        var metadata = image.Metadata;
        if (metadata?.Labels?.TryGetValue(KwarmApi.DeploymentLabel, out var label) != true
            || !string.Equals(label, HoldNames.DeploymentLabelValue(deploymentName), StringComparison.Ordinal))
        {
            return false;
        }

        // A shortened label value could in theory be shared: the annotation or the owner names the Deployment exactly.
        return string.Equals(OwnerDeploymentName(image), deploymentName, StringComparison.Ordinal);
    }

    /// <summary>The Deployment a PrePullImage was made for: its controller owner, else the name annotation.</summary>
    public static string? OwnerDeploymentName(PrePullImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var owner = image.Metadata?.OwnerReferences?.FirstOrDefault(reference => reference.Controller == true && reference.Kind == "Deployment");
        if (owner?.Name is { Length: > 0 } ownerName)
        {
            return ownerName;
        }

        return image.Metadata?.Annotations?.TryGetValue(DeploymentNameAnnotation, out var annotated) == true && image.Metadata.Labels?.ContainsKey(KwarmApi.HoldLabel) == true
            ? annotated
            : null;
    }

    /// <summary>
    /// Policy node selector ∩ template <c>nodeSelector</c> ∩ required node affinity. A single affinity term of label
    /// requirements folds into the label selector; anything a label selector cannot say (several terms, which are
    /// ORed; <c>Gt</c>/<c>Lt</c>; <c>matchFields</c>) goes into <see cref="NodeTargets.NodeAffinity"/> verbatim.
    /// </summary>
    public static NodeTargets? Targets(V1LabelSelector? policyNodeSelector, V1PodSpec podSpec)
    {
        ArgumentNullException.ThrowIfNull(podSpec);
        var matchLabels = new Dictionary<string, string>(policyNodeSelector?.MatchLabels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var expressions = new List<V1LabelSelectorRequirement>(policyNodeSelector?.MatchExpressions ?? []);
        foreach (var (key, value) in (podSpec.NodeSelector ?? new Dictionary<string, string>()).OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            // An expression rather than a matchLabels entry: the policy may name the same key with another value,
            // and the intersection must then select nothing rather than silently keep one of them.
            expressions.Add(new V1LabelSelectorRequirement { Key = key, OperatorProperty = LabelSelectors.In, Values = [value] });
        }

        V1NodeSelector? affinity = null;
        var terms = podSpec.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is [{ MatchFields: null or [] } single] && (single.MatchExpressions ?? []).All(r => LabelSelectorOperators.Contains(r.OperatorProperty ?? "")))
        {
            expressions.AddRange((single.MatchExpressions ?? []).Select(requirement => new V1LabelSelectorRequirement
            {
                Key = requirement.Key,
                OperatorProperty = requirement.OperatorProperty,
                Values = requirement.Values is { Count: > 0 } values ? [.. values] : null,
            }));
        }
        else if (terms is { Count: > 0 })
        {
            affinity = new V1NodeSelector { NodeSelectorTerms = [.. terms] };
        }

        var selector = matchLabels.Count == 0 && expressions.Count == 0
            ? null
            : new V1LabelSelector { MatchLabels = matchLabels.Count > 0 ? matchLabels : null, MatchExpressions = expressions.Count > 0 ? expressions : null };
        return selector is null && affinity is null ? null : new NodeTargets { Selector = selector, NodeAffinity = affinity };
    }

    /// <summary>
    /// With <c>inherit</c> (the default): the template's secrets, then the service account's (as the kubelet
    /// merges them for the pod); then <c>additional</c>. Each secret once, first occurrence first.
    /// </summary>
    public static IReadOnlyList<V1LocalObjectReference> PullSecrets(PrePullPolicySpec policy, V1PodSpec podSpec, V1ServiceAccount? serviceAccount)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(podSpec);
        var inherited = policy.EffectiveInheritImagePullSecrets
            ? (podSpec.ImagePullSecrets ?? []).Concat(serviceAccount?.ImagePullSecrets ?? [])
            : [];
        return inherited.Concat(policy.EffectiveAdditionalImagePullSecrets)
            .Where(secret => !string.IsNullOrEmpty(secret?.Name))
            .DistinctBy(secret => secret.Name, StringComparer.Ordinal)
            .Select(secret => new V1LocalObjectReference { Name = secret.Name })
            .ToList();
    }

    /// <summary>
    /// The pull policy of the containers running <paramref name="image"/>: <c>Always</c> when any of them says so (a
    /// mutable tag must then be refreshed on every node), else the first one given; null leaves the Kubernetes default.
    /// </summary>
    public static ImagePullPolicy? PullPolicy(V1PodSpec podSpec, string image)
    {
        ArgumentNullException.ThrowIfNull(podSpec);
        var policies = (podSpec.InitContainers ?? []).Concat(podSpec.Containers ?? [])
            .Where(container => container.Image is { } written && ImageIdentity.CanonicalOrSelf(written) == ImageIdentity.CanonicalOrSelf(image)
                && !string.IsNullOrEmpty(container.ImagePullPolicy))
            .Select(container => Enum.TryParse<ImagePullPolicy>(container.ImagePullPolicy, ignoreCase: false, out var parsed) ? parsed : (ImagePullPolicy?)null)
            .OfType<ImagePullPolicy>()
            .ToList();
        if (policies.Count == 0)
        {
            return null;
        }

        return policies.Contains(ImagePullPolicy.Always) ? ImagePullPolicy.Always : policies[0];
    }

    /// <summary>The service account the pods run as: the template's, else <c>default</c>.</summary>
    public static string ServiceAccountName(V1Deployment deployment) =>
        deployment?.Spec?.Template?.Spec?.ServiceAccountName is { Length: > 0 } name ? name : "default";
}
