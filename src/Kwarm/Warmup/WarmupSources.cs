using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Warmup;

/// <summary>The informer caches a warm-up pass reads.</summary>
public sealed record WarmupSources(
    ResourceCache<V1Node> Nodes,
    ResourceCache<PrePullPolicy> Policies,
    ResourceCache<V1Deployment> Deployments,
    ResourceCache<V1StatefulSet> StatefulSets,
    ResourceCache<V1DaemonSet> DaemonSets,
    ResourceCache<PrePullImage> Images,
    ResourceCache<V1ServiceAccount> ServiceAccounts)
{
    public IReadOnlyList<WarmupWorkload> Workloads() =>
    [
        .. Deployments.List().Select(WarmupWorkload.Of),
        .. StatefulSets.List().Select(WarmupWorkload.Of),
        .. DaemonSets.List().Select(WarmupWorkload.Of),
    ];

    /// <summary>The PrePullImages the warm-up made (label <c>kwarm.io/warmup: "true"</c>).</summary>
    public IReadOnlyList<PrePullImage> WarmupImages() => Images.ListByLabel(KwarmApi.WarmupLabel, "true");

    public V1ServiceAccount? ServiceAccount(string @namespace, string name) => ServiceAccounts.Get(@namespace, name);

    public static bool IsWarmupImage(PrePullImage image) =>
        image?.Metadata?.Labels?.TryGetValue(KwarmApi.WarmupLabel, out var value) == true && value == "true";
}
