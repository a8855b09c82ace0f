using System.Collections.Concurrent;

namespace Kwarm.Simulator.Api;

/// <summary>The resources the server knows: built-ins plus whatever CRDs have been created.</summary>
public sealed class ResourceCatalog
{
    private readonly ConcurrentDictionary<(string Group, string Version, string Plural), ResourceType> _byPath = new();
    private readonly ConcurrentDictionary<string, ResourceType> _byStorage = new(StringComparer.Ordinal);

    public ResourceCatalog()
    {
        foreach (var type in BuiltIns)
        {
            Add(type);
        }
    }

    public static IReadOnlyList<ResourceType> BuiltIns { get; } =
    [
        new("", "v1", "namespaces", "Namespace", false, ["ns"], HasStatus: true),
        new("", "v1", "nodes", "Node", false, ["no"], HasStatus: true),
        new("", "v1", "pods", "Pod", true, ["po"], HasStatus: true),
        new("", "v1", "events", "Event", true, ["ev"]),
        new("", "v1", "secrets", "Secret", true, []),
        new("", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"]),
        new("", "v1", "configmaps", "ConfigMap", true, ["cm"]),
        new("apps", "v1", "deployments", "Deployment", true, ["deploy"], HasStatus: true, HasScale: true) { Categories = ["all"], TracksGeneration = true },
        new("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], HasStatus: true, HasScale: true) { Categories = ["all"], TracksGeneration = true },
        new("apps", "v1", "statefulsets", "StatefulSet", true, ["sts"], HasStatus: true, HasScale: true) { Categories = ["all"], TracksGeneration = true },
        new("apps", "v1", "daemonsets", "DaemonSet", true, ["ds"], HasStatus: true) { Categories = ["all"], TracksGeneration = true },
        new("apps", "v1", "controllerrevisions", "ControllerRevision", true, []),
        new("batch", "v1", "jobs", "Job", true, [], HasStatus: true) { Categories = ["all"], TracksGeneration = true },
        new("coordination.k8s.io", "v1", "leases", "Lease", true, []),
        new("events.k8s.io", "v1", "events", "Event", true, ["ev"]),
        new("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false, []) { TracksGeneration = true },
        new("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false, ["crd", "crds"], HasStatus: true) { TracksGeneration = true },

        // Stored and served, not enforced: an install (deploy/kustomize/default) applies them, nothing here acts on them.
        // No authorization is simulated, Services route nothing (webhook Services are mapped to local endpoints, see
        // WebhookDispatcher), and evictions ignore PodDisruptionBudgets.
        new("", "v1", "services", "Service", true, ["svc"], HasStatus: true) { Categories = ["all"] },
        new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, ["pdb"], HasStatus: true) { TracksGeneration = true },
        new("rbac.authorization.k8s.io", "v1", "roles", "Role", true, []),
        new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, []),
        new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, []),
        new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, []),
    ];

    public void Add(ResourceType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        foreach (var version in type.Versions)
        {
            _byPath[(type.Group, version, type.Plural)] = type;
        }

        _byStorage[type.StorageKey] = type;
    }

    public void Remove(ResourceType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        foreach (var version in type.Versions)
        {
            _byPath.TryRemove((type.Group, version, type.Plural), out _);
        }

        _byStorage.TryRemove(type.StorageKey, out _);
    }

    public ResourceType? Find(string group, string version, string plural) =>
        _byPath.TryGetValue((group, version, plural), out var type) ? type : null;

    public ResourceType? FindByStorageKey(string storageKey) =>
        _byStorage.TryGetValue(storageKey, out var type) ? type : null;

    public ResourceType Get(string group, string plural) =>
        FindByStorageKey(group.Length == 0 ? plural : $"{plural}.{group}")
        ?? throw new InvalidOperationException($"unknown resource {plural}.{group}");

    public IReadOnlyList<ResourceType> All => [.. _byStorage.Values];

    /// <summary>Every (group, version) pair served, core first, then groups in a stable order.</summary>
    public IReadOnlyList<(string Group, string Version)> GroupVersions() =>
        [.. _byPath.Keys.Select(k => (k.Group, k.Version)).Distinct().OrderBy(k => k.Group.Length == 0 ? 0 : 1).ThenBy(k => k.Group, StringComparer.Ordinal).ThenBy(k => k.Version, StringComparer.Ordinal)];

    public IReadOnlyList<ResourceType> InGroupVersion(string group, string version) =>
        [.. _byPath.Where(p => p.Key.Group == group && p.Key.Version == version).Select(p => p.Value).OrderBy(t => t.Plural, StringComparer.Ordinal)];
}
