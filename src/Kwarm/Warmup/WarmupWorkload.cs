using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Warmup;

/// <summary>What the warm-up reads of a Deployment, StatefulSet or DaemonSet: who it is and the pods it makes.</summary>
public sealed record WarmupWorkload(WorkloadKind Kind, string Namespace, string Name, IDictionary<string, string>? Labels, V1PodSpec PodSpec)
{
    public static WarmupWorkload Of(V1Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return new(WorkloadKind.Deployment, deployment.Metadata.NamespaceProperty ?? "", deployment.Metadata.Name, deployment.Metadata.Labels, deployment.Spec?.Template?.Spec ?? new V1PodSpec());
    }

    public static WarmupWorkload Of(V1StatefulSet statefulSet)
    {
        ArgumentNullException.ThrowIfNull(statefulSet);
        return new(WorkloadKind.StatefulSet, statefulSet.Metadata.NamespaceProperty ?? "", statefulSet.Metadata.Name, statefulSet.Metadata.Labels, statefulSet.Spec?.Template?.Spec ?? new V1PodSpec());
    }

    public static WarmupWorkload Of(V1DaemonSet daemonSet)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        return new(WorkloadKind.DaemonSet, daemonSet.Metadata.NamespaceProperty ?? "", daemonSet.Metadata.Name, daemonSet.Metadata.Labels, daemonSet.Spec?.Template?.Spec ?? new V1PodSpec());
    }

    /// <summary>The tolerations its pods carry: a DaemonSet's get the ones its controller adds to every daemon pod.</summary>
    public IReadOnlyList<V1Toleration> Tolerations =>
        Kind == WorkloadKind.DaemonSet ? PodPullSettings.DaemonPodTolerations(PodSpec) : [.. PodSpec.Tolerations ?? []];

    /// <summary>
    /// Whether its pods could run on the node once the warming taint is gone: the policy's node selector, the
    /// template's node selector and required node affinity, and every other NoSchedule/NoExecute taint tolerated.
    /// </summary>
    public bool CouldRunOn(V1Node node, PrePullPolicySpec policy)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(policy);
        var name = node.Metadata?.Name ?? "";
        var labels = node.Metadata?.Labels;
        return (PodPullSettings.Targets(policy.NodeSelector, PodSpec)?.Includes(name, labels) ?? true)
            && TolerationMatcher.ToleratesAll(WarmingTaint.OthersOn(node), Tolerations);
    }
}
