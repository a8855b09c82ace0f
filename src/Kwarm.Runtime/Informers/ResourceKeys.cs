using k8s;
using k8s.Models;

namespace Kwarm.Runtime;

/// <summary>Cache and work-queue keys: <c>namespace/name</c>, or <c>name</c> for cluster-scoped objects (as client-go).</summary>
public static class ResourceKeys
{
    public static string For(string? @namespace, string name) =>
        string.IsNullOrEmpty(@namespace) ? name : $"{@namespace}/{name}";

    public static string For(IKubernetesObject<V1ObjectMeta> resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return For(resource.Metadata?.NamespaceProperty, resource.Metadata?.Name ?? "");
    }

    /// <summary>Splits a key back into its namespace (null for cluster-scoped) and name.</summary>
    public static (string? Namespace, string Name) Split(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (null, key) : (key[..slash], key[(slash + 1)..]);
    }
}
