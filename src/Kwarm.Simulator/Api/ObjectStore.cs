using System.Globalization;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>
/// The simulated etcd: every resource's objects under one global resourceVersion counter, a bounded history of
/// committed events for watches, and synchronous listeners for the in-process controllers.
/// </summary>
public sealed class ObjectStore
{
    /// <summary>etcd's --max-request-bytes default.</summary>
    public const int MaxObjectBytes = 1536 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, SortedDictionary<string, StoredObject>> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredObject> _byUid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<StoredObject>> _dependents = new(StringComparer.Ordinal);
    private readonly Queue<StoreEvent> _history = new();
    private readonly List<StoreWatch> _watches = [];
    private readonly List<Action<StoreEvent>> _listeners = [];
    private readonly TimeProvider _time;
    private readonly int _historyLimit;
    private long _resourceVersion;
    private long _compactedThrough;

    public ObjectStore(TimeProvider time, int historyLimit, long initialResourceVersion = 100)
    {
        _time = time;
        _historyLimit = Math.Max(1, historyLimit);
        _resourceVersion = initialResourceVersion;
        _compactedThrough = initialResourceVersion;
    }

    public long CurrentResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return _resourceVersion;
            }
        }
    }

    /// <summary>The newest resourceVersion no longer in the watch history: watches from at or before it get 410.</summary>
    public long CompactedThrough
    {
        get
        {
            lock (_lock)
            {
                return _compactedThrough;
            }
        }
    }

    /// <summary>Called synchronously, in commit order, under the store lock: listeners must only enqueue work.</summary>
    public void Subscribe(Action<StoreEvent> listener)
    {
        lock (_lock)
        {
            _listeners.Add(listener);
        }
    }

    /// <summary>Drops the whole watch history, as etcd compaction does, so older resourceVersions answer 410.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _history.Clear();
            _compactedThrough = _resourceVersion;
        }
    }

    public StoredObject? Get(ResourceType type, string ns, string name)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (_lock)
        {
            return Bucket(type).GetValueOrDefault(KeyOf(type, ns, name));
        }
    }

    public StoredObject? GetByUid(string uid)
    {
        lock (_lock)
        {
            return _byUid.GetValueOrDefault(uid);
        }
    }

    public (IReadOnlyList<StoredObject> Items, long ResourceVersion) List(ResourceType type, string? ns, Func<StoredObject, bool>? filter = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (_lock)
        {
            var items = new List<StoredObject>();
            var bucket = Bucket(type);
            IEnumerable<StoredObject> source = bucket.Values;
            if (!string.IsNullOrEmpty(ns) && type.Namespaced)
            {
                var prefix = ns + "/";
                source = bucket.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(p => p.Value);
            }

            foreach (var item in source)
            {
                if (filter is null || filter(item))
                {
                    items.Add(item);
                }
            }

            return (items, _resourceVersion);
        }
    }

    public IReadOnlyList<StoredObject> DependentsOf(string ownerUid)
    {
        lock (_lock)
        {
            return _dependents.TryGetValue(ownerUid, out var set) ? [.. set] : [];
        }
    }

    /// <summary>Creates the object, filling uid, creationTimestamp, generation, resourceVersion (and the name from generateName).</summary>
    public StoredObject Create(ResourceType type, JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        lock (_lock)
        {
            var metadata = obj.Metadata();
            var name = metadata.Str("name");
            if (string.IsNullOrEmpty(name))
            {
                var generateName = metadata.Str("generateName");
                if (string.IsNullOrEmpty(generateName))
                {
                    throw ApiException.Invalid(type, "", ("metadata.name", "Required value: name or generateName is required"));
                }

                do
                {
                    name = generateName + RandomSuffix(5);
                }
                while (Bucket(type).ContainsKey(KeyOf(type, metadata.Str("namespace") ?? "", name)));

                metadata["name"] = name;
            }

            var ns = type.Namespaced ? metadata.Str("namespace") ?? "" : "";
            if (!type.Namespaced)
            {
                metadata.Remove("namespace");
            }

            var key = KeyOf(type, ns, name);
            if (Bucket(type).ContainsKey(key))
            {
                throw ApiException.AlreadyExists(type, name);
            }

            // The API layer strips client uids; a uid present here was chosen by the server (a Job's selector uses it).
            metadata["uid"] = metadata.Str("uid") ?? Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = JsonPaths.Timestamp(_time.GetUtcNow());
            metadata.Remove("deletionTimestamp");
            if (type.TracksGeneration)
            {
                metadata["generation"] = 1;
            }
            else
            {
                metadata.Remove("generation");
            }

            obj["kind"] = type.Kind;
            obj["apiVersion"] ??= type.ApiVersion;
            return Commit(type, obj, null);
        }
    }

    /// <summary>
    /// Replaces the object. A non-empty metadata.resourceVersion must match the stored one (409 otherwise).
    /// Server-owned metadata is preserved; generation moves when anything outside metadata and status changes, or
    /// when <paramref name="metadataCountsForGeneration"/> says a metadata change counts too (the API server's
    /// per-kind rule, see <see cref="ApiServer"/>). An object being deleted whose last finalizer goes away is removed.
    /// </summary>
    public StoredObject Update(ResourceType type, JsonObject obj, bool metadataCountsForGeneration = false)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        lock (_lock)
        {
            var metadata = obj.Metadata();
            var name = metadata.Str("name") ?? "";
            var ns = type.Namespaced ? metadata.Str("namespace") ?? "" : "";
            var key = KeyOf(type, ns, name);
            if (!Bucket(type).TryGetValue(key, out var current))
            {
                throw ApiException.NotFound(type, name);
            }

            var expected = metadata.Str("resourceVersion");
            if (!string.IsNullOrEmpty(expected) && expected != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw ApiException.Conflict(type, name);
            }

            var old = current.ToNode();
            var oldMetadata = old.Metadata();
            foreach (var field in new[] { "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation" })
            {
                if (oldMetadata[field] is { } value)
                {
                    metadata[field] = value.DeepClone();
                }
                else
                {
                    metadata.Remove(field);
                }
            }

            if (!type.Namespaced)
            {
                metadata.Remove("namespace");
            }

            obj["kind"] = type.Kind;
            obj["apiVersion"] ??= type.ApiVersion;
            if (metadata["generation"] is not null && (SpecChanged(old, obj) || metadataCountsForGeneration))
            {
                metadata["generation"] = (old.Metadata().Long("generation") ?? 0) + 1;
            }

            if (current.Deleting && (metadata["finalizers"] is not JsonArray f || f.Count == 0))
            {
                return Remove(type, current, obj);
            }

            return Commit(type, obj, current);
        }
    }

    /// <summary>Reads, changes and writes one object atomically; <paramref name="change"/> returns false to leave it as is.</summary>
    public StoredObject? Mutate(ResourceType type, string ns, string name, Func<JsonObject, bool> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_lock)
        {
            var current = Get(type, ns, name);
            if (current is null)
            {
                return null;
            }

            var node = current.ToNode();
            if (!change(node))
            {
                return current;
            }

            node.Metadata()["resourceVersion"] = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            return Update(type, node);
        }
    }

    /// <summary>
    /// Deletes the object, or marks it with a deletionTimestamp while finalizers remain.
    /// Foreground and Orphan propagation add the API server's own finalizers for the garbage collector.
    /// A pod bound to a node and not finished is deleted gracefully, as kube-apiserver does: it gets a deletionTimestamp
    /// <paramref name="gracePeriodSeconds"/> (default: its <c>terminationGracePeriodSeconds</c>) ahead and stays until
    /// its kubelet confirms with a grace period of 0; a later delete may only shorten the grace period.
    /// </summary>
    public StoredObject Delete(ResourceType type, string ns, string name, string? propagationPolicy = null, string? expectedUid = null, string? expectedResourceVersion = null, long? gracePeriodSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (_lock)
        {
            var current = Get(type, ns, name) ?? throw ApiException.NotFound(type, name);
            if (expectedUid is not null && expectedUid != current.Uid)
            {
                throw new ApiException(409, "Conflict", $"Operation cannot be fulfilled on {type.QualifiedName} \"{name}\": Precondition failed: UID in precondition: {expectedUid}, UID in object meta: {current.Uid}");
            }

            if (expectedResourceVersion is not null && expectedResourceVersion != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new ApiException(409, "Conflict", $"Operation cannot be fulfilled on {type.QualifiedName} \"{name}\": Precondition failed: ResourceVersion in precondition: {expectedResourceVersion}, ResourceVersion in object meta: {current.ResourceVersion}");
            }

            var node = current.ToNode();
            var metadata = node.Metadata();
            var finalizers = metadata["finalizers"] as JsonArray ?? [];
            var extra = propagationPolicy switch
            {
                "Foreground" => "foregroundDeletion",
                "Orphan" => "orphan",
                _ => null,
            };
            var finalizerAdded = false;
            if (extra is not null && !finalizers.Any(f => f?.ToString() == extra) && (extra != "foregroundDeletion" || _dependents.ContainsKey(current.Uid)))
            {
                finalizers.Add(extra);
                metadata["finalizers"] = finalizers;
                finalizerAdded = true;
            }

            if (type.StorageKey == "pods" && GracePeriod(node, gracePeriodSeconds) is var grace and > 0)
            {
                if (current.Deleting && metadata.Long("deletionGracePeriodSeconds") is { } granted && granted <= grace)
                {
                    return finalizerAdded ? Commit(type, node, current) : current;
                }

                metadata["deletionTimestamp"] = JsonPaths.Timestamp(_time.GetUtcNow().AddSeconds(grace));
                metadata["deletionGracePeriodSeconds"] = grace;
                return Commit(type, node, current);
            }

            if (type.StorageKey == "pods" && current.Deleting && finalizers.Count > 0 && metadata.Long("deletionGracePeriodSeconds") is not 0)
            {
                // A confirmed (grace 0) deletion of a pod that finalizers still hold.
                metadata["deletionGracePeriodSeconds"] = 0;
                return Commit(type, node, current);
            }

            if (type.StorageKey == "pods" && current.Deleting && finalizers.Count == 0 && metadata.Long("deletionGracePeriodSeconds") is not 0)
            {
                // The end of a graceful deletion: like kube-apiserver, first record the grace period of 0, then delete.
                metadata["deletionTimestamp"] = JsonPaths.Timestamp(_time.GetUtcNow());
                metadata["deletionGracePeriodSeconds"] = 0;
                var confirmed = Commit(type, node, current);
                return Remove(type, confirmed, confirmed.ToNode());
            }

            if (finalizers.Count == 0)
            {
                return Remove(type, current, node);
            }

            if (current.Deleting && extra is null)
            {
                return current;
            }

            metadata["deletionTimestamp"] ??= JsonPaths.Timestamp(_time.GetUtcNow());
            metadata["deletionGracePeriodSeconds"] ??= 0;
            return Commit(type, node, current);
        }
    }

    /// <summary>
    /// The grace period a pod's deletion gets: none for a pod no node runs (unscheduled, or finished), else the
    /// requested one or the pod's <c>terminationGracePeriodSeconds</c> (the API server's pod strategy).
    /// </summary>
    private static long GracePeriod(JsonObject pod, long? requested)
    {
        if (pod.Str("spec", "nodeName") is null or "" || pod.Str("status", "phase") is "Succeeded" or "Failed")
        {
            return 0;
        }

        return Math.Max(0, requested ?? pod.Long("spec", "terminationGracePeriodSeconds") ?? 30);
    }

    /// <summary>Opens a watch from <paramref name="fromResourceVersion"/> (null or 0: current state first as ADDED).</summary>
    public StoreWatch Watch(ResourceType type, string? ns, long? fromResourceVersion)
    {
        ArgumentNullException.ThrowIfNull(type);
        lock (_lock)
        {
            var watch = new StoreWatch(this, type, ns);
            if (fromResourceVersion is null or 0)
            {
                foreach (var item in List(type, ns).Items)
                {
                    watch.Offer(new StoreEvent(WatchEventType.Added, item, null));
                }
            }
            else
            {
                if (fromResourceVersion.Value < _compactedThrough)
                {
                    throw ApiException.Expired("The resourceVersion for the provided watch is too old.");
                }

                foreach (var past in _history)
                {
                    if (past.ResourceVersion > fromResourceVersion.Value)
                    {
                        watch.Offer(past);
                    }
                }
            }

            _watches.Add(watch);
            return watch;
        }
    }

    internal void Unwatch(StoreWatch watch)
    {
        lock (_lock)
        {
            _watches.Remove(watch);
        }
    }

    public int Count(ResourceType type)
    {
        lock (_lock)
        {
            return Bucket(type).Count;
        }
    }

    private StoredObject Remove(ResourceType type, StoredObject current, JsonObject finalState)
    {
        var rv = ++_resourceVersion;
        finalState.Metadata()["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var deleted = StoredObject.From(type, finalState);
        Bucket(type).Remove(current.Key);
        Unindex(current);
        Publish(new StoreEvent(WatchEventType.Deleted, deleted, current));
        return deleted;
    }

    private StoredObject Commit(ResourceType type, JsonObject obj, StoredObject? previous)
    {
        var rv = _resourceVersion + 1;
        obj.Metadata()["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var stored = StoredObject.From(type, obj);
        if (stored.Json.Length > MaxObjectBytes)
        {
            // etcd's default request limit (1.5 MiB): a real cluster refuses such writes with exactly this message.
            throw ApiException.InternalError("etcdserver: request is too large");
        }

        _resourceVersion = rv;
        Bucket(type)[stored.Key] = stored;
        if (previous is not null)
        {
            Unindex(previous);
        }

        Index(stored);
        Publish(new StoreEvent(previous is null ? WatchEventType.Added : WatchEventType.Modified, stored, previous));
        return stored;
    }

    private void Index(StoredObject stored)
    {
        _byUid[stored.Uid] = stored;
        foreach (var owner in stored.Owners)
        {
            if (!_dependents.TryGetValue(owner, out var set))
            {
                set = [];
                _dependents[owner] = set;
            }

            set.Add(stored);
        }
    }

    private void Unindex(StoredObject stored)
    {
        _byUid.Remove(stored.Uid);
        foreach (var owner in stored.Owners)
        {
            if (_dependents.TryGetValue(owner, out var set))
            {
                set.Remove(stored);
                if (set.Count == 0)
                {
                    _dependents.Remove(owner);
                }
            }
        }
    }

    private void Publish(StoreEvent change)
    {
        _history.Enqueue(change);
        while (_history.Count > _historyLimit)
        {
            _compactedThrough = _history.Dequeue().ResourceVersion;
        }

        foreach (var watch in _watches)
        {
            watch.Offer(change);
        }

        foreach (var listener in _listeners)
        {
            listener(change);
        }
    }

    private SortedDictionary<string, StoredObject> Bucket(ResourceType type)
    {
        if (!_objects.TryGetValue(type.StorageKey, out var bucket))
        {
            bucket = new SortedDictionary<string, StoredObject>(StringComparer.Ordinal);
            _objects[type.StorageKey] = bucket;
        }

        return bucket;
    }

    private static string KeyOf(ResourceType type, string ns, string name) =>
        type.Namespaced ? $"{ns}/{name}" : name;

    private static bool SpecChanged(JsonObject old, JsonObject updated)
    {
        var keys = old.Select(p => p.Key).Concat(updated.Select(p => p.Key))
            .Where(k => k is not ("metadata" or "status" or "kind" or "apiVersion"))
            .Distinct(StringComparer.Ordinal);
        return keys.Any(k => !JsonNode.DeepEquals(old[k], updated[k]));
    }

    private static string RandomSuffix(int length)
    {
        // The API server's generateName alphabet: no vowels, no digits that look like letters.
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(length, alphabet, static (span, chars) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = chars[Random.Shared.Next(chars.Length)];
            }
        });
    }
}
