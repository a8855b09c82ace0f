using k8s;
using k8s.Models;

namespace Kwarm.Runtime;

/// <summary>
/// In-memory copy of one resource type, keyed by <c>namespace/name</c> (<c>name</c> when cluster-scoped),
/// always indexed by namespace, by label <c>key=value</c> and by owner UID, plus any <see cref="ResourceIndexer{T}"/>
/// the application adds. Only the informer writes to it; everyone reads. Objects are stored as the informer's
/// transform left them (often trimmed): never write a cached object back to the API server whole, patch the
/// fields you own instead.
/// Returned objects are shared; treat them as read-only.
/// </summary>
public sealed class ResourceCache<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>Index names of the three built-in indexes.</summary>
    public const string NamespaceIndex = "namespace";
    public const string LabelIndex = "label";
    public const string OwnerIndex = "owner";

    private static readonly ResourceIndexer<T>[] BuiltInIndexers =
    [
        new(NamespaceIndex, resource => string.IsNullOrEmpty(resource.Metadata?.NamespaceProperty) ? [] : [resource.Metadata.NamespaceProperty]),
        new(LabelIndex, resource => resource.Metadata?.Labels?.Select(label => LabelIndexKey(label.Key, label.Value)) ?? []),
        new(OwnerIndex, resource => resource.Metadata?.OwnerReferences?.Select(owner => owner.Uid).Where(uid => !string.IsNullOrEmpty(uid)).Distinct() ?? []),
    ];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly ResourceIndexer<T>[] _indexers;
    private readonly Dictionary<string, HashSet<string>>[] _indexes;
    private readonly Dictionary<string, int> _indexByName = new(StringComparer.Ordinal);

    /// <param name="indexers">Indexes besides the built-in ones; names must be unique.</param>
    public ResourceCache(IEnumerable<ResourceIndexer<T>>? indexers = null)
    {
        _indexers = [.. BuiltInIndexers, .. indexers ?? []];
        _indexes = new Dictionary<string, HashSet<string>>[_indexers.Length];
        for (var i = 0; i < _indexers.Length; i++)
        {
            if (!_indexByName.TryAdd(_indexers[i].Name, i))
            {
                throw new ArgumentException($"Two indexes are named '{_indexers[i].Name}'", nameof(indexers));
            }

            _indexes[i] = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        }
    }

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

    public IReadOnlyList<T> ListInNamespace(string @namespace) => ListByIndex(NamespaceIndex, @namespace);

    /// <summary>Objects whose label <paramref name="key"/> has exactly <paramref name="value"/>.</summary>
    public IReadOnlyList<T> ListByLabel(string key, string value) => ListByIndex(LabelIndex, LabelIndexKey(key, value));

    /// <summary>Objects with an owner reference to <paramref name="ownerUid"/> (controller or not).</summary>
    public IReadOnlyList<T> ListByOwner(string ownerUid) => ListByIndex(OwnerIndex, ownerUid);

    /// <summary>Objects to which the index <paramref name="indexName"/> gives <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">No index has that name.</exception>
    public IReadOnlyList<T> ListByIndex(string indexName, string value)
    {
        if (!_indexByName.TryGetValue(indexName, out var position))
        {
            throw new ArgumentException($"The cache has no index named '{indexName}'", nameof(indexName));
        }

        lock (_lock)
        {
            return _indexes[position].TryGetValue(value, out var keys) ? [.. keys.Select(key => _items[key])] : [];
        }
    }

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

    private void Index(string key, T resource)
    {
        for (var i = 0; i < _indexers.Length; i++)
        {
            foreach (var value in _indexers[i].Values(resource))
            {
                Add(_indexes[i], value, key);
            }
        }
    }

    private void Unindex(string key, T resource)
    {
        for (var i = 0; i < _indexers.Length; i++)
        {
            foreach (var value in _indexers[i].Values(resource))
            {
                Drop(_indexes[i], value, key);
            }
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
