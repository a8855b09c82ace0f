using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Kubernetes;

/// <summary>The resource types Kwarm watches.</summary>
public static class ResourceKinds
{
    public static readonly ResourceKind Deployments = new("apps", "v1", "deployments", V1Deployment.KubeKind, Namespaced: true);
    public static readonly ResourceKind StatefulSets = new("apps", "v1", "statefulsets", V1StatefulSet.KubeKind, Namespaced: true);
    public static readonly ResourceKind DaemonSets = new("apps", "v1", "daemonsets", V1DaemonSet.KubeKind, Namespaced: true);
    public static readonly ResourceKind Nodes = new("", "v1", "nodes", V1Node.KubeKind, Namespaced: false);
    public static readonly ResourceKind Jobs = new("batch", "v1", "jobs", V1Job.KubeKind, Namespaced: true);
    public static readonly ResourceKind Pods = new("", "v1", "pods", V1Pod.KubeKind, Namespaced: true);
    public static readonly ResourceKind ServiceAccounts = new("", "v1", "serviceaccounts", V1ServiceAccount.KubeKind, Namespaced: true);
    public static readonly ResourceKind Namespaces = new("", "v1", "namespaces", V1Namespace.KubeKind, Namespaced: false);

    public static readonly ResourceKind PrePullPolicies =
        new(PrePullPolicy.KubeGroup, PrePullPolicy.KubeVersion, PrePullPolicy.KubePluralName, PrePullPolicy.KubeKind, Namespaced: false);

    public static readonly ResourceKind PrePullImages =
        new(PrePullImage.KubeGroup, PrePullImage.KubeVersion, PrePullImage.KubePluralName, PrePullImage.KubeKind, Namespaced: true);
}
