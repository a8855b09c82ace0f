using k8s;
using k8s.Models;

namespace Kwarm.Kubernetes;

public enum ResourceEventType
{
    Added,
    Updated,
    Deleted,
}

/// <summary>A change seen by an informer, after the cache has applied it. <see cref="Previous"/> is set for updates.</summary>
public sealed record ResourceEvent<T>(ResourceEventType Type, T Resource, T? Previous = null)
    where T : class;

/// <summary>What a full relist changed, in the order the informer reports it.</summary>
internal sealed record CacheDiff<T>(IReadOnlyList<T> Deleted, IReadOnlyList<T> Added, IReadOnlyList<(T Current, T Previous)> Updated);

/// <summary>
/// In-memory copy of one resource type, keyed by <c>namespace/name</c> (<c>name</c> when cluster-scoped),
/// indexed by namespace, by label <c>key=value</c> and by owner UID. Only the informer writes to it;
/// everyone reads. Objects are stored trimmed (see <see cref="ResourceTrimmers"/>): never write a cached
/// object back to the API server whole, patch the fields you own instead.
/// Returned objects are shared; treat them as read-only.
/// </summary>
public sealed class ResourceCache<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _byNamespace = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _byLabel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _byOwner = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public T? Get(string key)
    {
        lock (_lock)
        {
            return _items.GetValueOrDefault(key);
        }
    }

    public T? Get(string? @namespace, string name) => Get(ResourceKeys.For(@namespace, name));

    public IReadOnlyList<T> List()
    {
        lock (_lock)
        {
            return [.. _items.Values];
        }
    }

    public IReadOnlyList<string> Keys()
    {
        lock (_lock)
        {
            return [.. _items.Keys];
        }
    }

    public IReadOnlyList<T> ListInNamespace(string @namespace) => Lookup(_byNamespace, @namespace);

    /// <summary>Objects whose label <paramref name="key"/> has exactly <paramref name="value"/>.</summary>
    public IReadOnlyList<T> ListByLabel(string key, string value) => Lookup(_byLabel, LabelIndexKey(key, value));

    /// <summary>Objects with an owner reference to <paramref name="ownerUid"/> (controller or not).</summary>
    public IReadOnlyList<T> ListByOwner(string ownerUid) => Lookup(_byOwner, ownerUid);

    /// <summary>Inserts or replaces; returns the object it replaced.</summary>
    internal T? Upsert(T resource)
    {
        var key = ResourceKeys.For(resource);
        lock (_lock)
        {
            var previous = _items.GetValueOrDefault(key);
            if (previous is not null)
            {
                Unindex(key, previous);
            }

            _items[key] = resource;
            Index(key, resource);
            return previous;
        }
    }

    internal T? Remove(string key)
    {
        lock (_lock)
        {
            if (!_items.Remove(key, out var removed))
            {
                return null;
            }

            Unindex(key, removed);
            return removed;
        }
    }

    /// <summary>
    /// Makes the cache hold exactly <paramref name="fresh"/> (a complete relist) and reports what changed.
    /// An object whose resourceVersion did not move counts as unchanged.
    /// </summary>
    internal CacheDiff<T> Replace(IReadOnlyDictionary<string, T> fresh)
    {
        var deleted = new List<T>();
        var added = new List<T>();
        var updated = new List<(T, T)>();
        lock (_lock)
        {
            foreach (var key in _items.Keys.Where(key => !fresh.ContainsKey(key)).ToList())
            {
                _items.Remove(key, out var gone);
                Unindex(key, gone!);
                deleted.Add(gone!);
            }

            foreach (var (key, resource) in fresh)
            {
                if (_items.TryGetValue(key, out var previous))
                {
                    if (previous.Metadata?.ResourceVersion == resource.Metadata?.ResourceVersion)
                    {
                        continue;
                    }

                    Unindex(key, previous);
                    updated.Add((resource, previous));
                }
                else
                {
                    added.Add(resource);
                }

                _items[key] = resource;
                Index(key, resource);
            }
        }

        return new CacheDiff<T>(deleted, added, updated);
    }

    private IReadOnlyList<T> Lookup(Dictionary<string, HashSet<string>> index, string indexKey)
    {
        lock (_lock)
        {
            return index.TryGetValue(indexKey, out var keys) ? [.. keys.Select(key => _items[key])] : [];
        }
    }

    private void Index(string key, T resource)
    {
        var entries = IndexEntries.Of(resource);
        foreach (var label in entries.Labels)
        {
            Add(_byLabel, label, key);
        }

        if (entries.Namespace is not null)
        {
            Add(_byNamespace, entries.Namespace, key);
        }

        foreach (var owner in entries.Owners)
        {
            Add(_byOwner, owner, key);
        }
    }

    private void Unindex(string key, T resource)
    {
        var entries = IndexEntries.Of(resource);
        foreach (var label in entries.Labels)
        {
            Drop(_byLabel, label, key);
        }

        if (entries.Namespace is not null)
        {
            Drop(_byNamespace, entries.Namespace, key);
        }

        foreach (var owner in entries.Owners)
        {
            Drop(_byOwner, owner, key);
        }
    }

    private readonly record struct IndexEntries(string? Namespace, IReadOnlyList<string> Labels, IReadOnlyList<string> Owners)
    {
        public static IndexEntries Of(T resource)
        {
            var metadata = resource.Metadata;
            return new IndexEntries(
                string.IsNullOrEmpty(metadata?.NamespaceProperty) ? null : metadata.NamespaceProperty,
                metadata?.Labels?.Select(label => LabelIndexKey(label.Key, label.Value)).ToList() ?? [],
                metadata?.OwnerReferences?.Select(owner => owner.Uid).Where(uid => !string.IsNullOrEmpty(uid)).Distinct().ToList() ?? []);
        }
    }

    private static string LabelIndexKey(string key, string value) => $"{key}={value}";

    private static void Add(Dictionary<string, HashSet<string>> index, string indexKey, string key)
    {
        if (!index.TryGetValue(indexKey, out var keys))
        {
            keys = new HashSet<string>(StringComparer.Ordinal);
            index[indexKey] = keys;
        }

        keys.Add(key);
    }

    private static void Drop(Dictionary<string, HashSet<string>> index, string indexKey, string key)
    {
        if (index.TryGetValue(indexKey, out var keys) && keys.Remove(key) && keys.Count == 0)
        {
            index.Remove(indexKey);
        }
    }
}
