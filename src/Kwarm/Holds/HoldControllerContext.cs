using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Holds;

/// <summary>Where the hold controller reads from and what it reports as; one instance per process.</summary>
public sealed record HoldControllerContext(
    ResourceCache<V1Deployment> Deployments,
    ResourceCache<PrePullImage> PrePullImages,
    ResourceCache<PrePullPolicy> Policies,
    ResourceCache<V1ServiceAccount> ServiceAccounts,
    string Instance);
