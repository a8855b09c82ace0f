using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Workloads;

/// <summary>
/// How a workload's pods meet nodes and registries, as a pull for them must: the nodes they can run on, the tolerations
/// they carry, the secrets they pull with and the pull policy of an image. Shared by the hold controller (a hold's
/// PrePullImages) and node warm-up (which workloads could run on a joining node). Pure.
/// </summary>
public static class PodPullSettings
{
    private static readonly HashSet<string> LabelSelectorOperators =
        new([LabelSelectors.In, LabelSelectors.NotIn, LabelSelectors.Exists, LabelSelectors.DoesNotExist], StringComparer.Ordinal);

    /// <summary>
    /// The tolerations of a DaemonSet's pods: the template's, plus those the DaemonSet controller adds to every daemon pod
    /// (Kubernetes' <c>AddOrUpdateDaemonPodTolerations</c>): <c>not-ready</c> and <c>unreachable</c> NoExecute; <c>disk-pressure</c>,
    /// <c>memory-pressure</c>, <c>pid-pressure</c> and <c>unschedulable</c> NoSchedule; <c>network-unavailable</c> NoSchedule
    /// for a host-network pod. One already in the template (same key, operator, value, effect) is not added twice.
    /// </summary>
    public static IReadOnlyList<V1Toleration> DaemonPodTolerations(V1PodSpec podSpec)
    {
        ArgumentNullException.ThrowIfNull(podSpec);
        var tolerations = new List<V1Toleration>(podSpec.Tolerations ?? []);
        var automatic = new List<(string Key, string Effect)>
        {
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        };
        if (podSpec.HostNetwork == true)
        {
            automatic.Add(("node.kubernetes.io/network-unavailable", "NoSchedule"));
        }

        foreach (var (key, effect) in automatic)
        {
            if (!tolerations.Any(existing => existing.Key == key && existing.OperatorProperty == "Exists" && string.IsNullOrEmpty(existing.Value) && existing.Effect == effect))
            {
                tolerations.Add(new V1Toleration { Key = key, OperatorProperty = "Exists", Effect = effect });
            }
        }

        return tolerations;
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
}
