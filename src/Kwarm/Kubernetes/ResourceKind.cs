using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Kubernetes;

/// <summary>Where a resource type lives in the REST API. Core types have an empty group.</summary>
public sealed record ResourceKind(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Relative URI of the collection, across all namespaces when <paramref name="namespace"/> is null.</summary>
    public string CollectionPath(string? @namespace)
    {
        var root = Group.Length == 0 ? $"api/{Version}" : $"apis/{Group}/{Version}";
        return Namespaced && !string.IsNullOrEmpty(@namespace)
            ? $"{root}/namespaces/{Uri.EscapeDataString(@namespace)}/{Plural}"
            : $"{root}/{Plural}";
    }
}

/// <summary>The resource types Kwarm watches.</summary>
public static class ResourceKinds
{
    public static readonly ResourceKind Deployments = new("apps", "v1", "deployments", V1Deployment.KubeKind, Namespaced: true);
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
