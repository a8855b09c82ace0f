using Kwarm.Resources;

namespace Kwarm.Holds;

/// <summary>
/// The hold controller's work-queue keys: <c>namespace/name</c> for a Deployment (as before StatefulSets and DaemonSets
/// were held, so logs and tests read the same), <c>StatefulSet:namespace/name</c> and <c>DaemonSet:namespace/name</c> for
/// the others. A namespace is a DNS label (lowercase, no colon), so the prefix can never be mistaken for one.
/// </summary>
public static class WorkloadKeys
{
    public static string For(WorkloadKind kind, string? @namespace, string name)
    {
        var key = ResourceKeys.For(@namespace, name);
        return kind == WorkloadKind.Deployment ? key : $"{kind}:{key}";
    }

    /// <summary>The kind and the cache key (<c>namespace/name</c>) of a work-queue key.</summary>
    public static (WorkloadKind Kind, string CacheKey) Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && Enum.TryParse<WorkloadKind>(key[..colon], ignoreCase: false, out var kind)
            ? (kind, key[(colon + 1)..])
            : (WorkloadKind.Deployment, key);
    }
}
