using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;
using k8s.Models;

namespace Kwarm.Holds;

/// <summary>Where the hold controller reads from and what it reports as; one instance per process.</summary>
public sealed record HoldControllerContext(
    ResourceCache<V1Deployment> Deployments,
    ResourceCache<V1StatefulSet> StatefulSets,
    ResourceCache<V1DaemonSet> DaemonSets,
    ResourceCache<PrePullImage> PrePullImages,
    ResourceCache<PrePullPolicy> Policies,
    ResourceCache<V1ServiceAccount> ServiceAccounts,
    string Instance)
{
    /// <summary>The cached workload of a kind under its cache key (<c>namespace/name</c>); null when there is none.</summary>
    public WorkloadObject? Get(WorkloadKind kind, string cacheKey) => kind switch
    {
        WorkloadKind.StatefulSet => StatefulSets.Get(cacheKey) is { } statefulSet ? WorkloadObject.Of(statefulSet) : null,
        WorkloadKind.DaemonSet => DaemonSets.Get(cacheKey) is { } daemonSet ? WorkloadObject.Of(daemonSet) : null,
        _ => Deployments.Get(cacheKey) is { } deployment ? WorkloadObject.Of(deployment) : null,
    };

    /// <summary>Every cached workload of every kind.</summary>
    public IEnumerable<WorkloadObject> Workloads() =>
        Deployments.List().Select(WorkloadObject.Of)
            .Concat(StatefulSets.List().Select(WorkloadObject.Of))
            .Concat(DaemonSets.List().Select(WorkloadObject.Of));
}
