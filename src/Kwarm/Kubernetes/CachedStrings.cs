using System.Collections.Concurrent;

namespace Kwarm.Kubernetes;

/// <summary>
/// One copy of each short string the caches repeat across objects: namespaces, label and annotation keys and values,
/// images, container names, taints, node conditions. Every object arrives from its own JSON, so without this each
/// of 25,000 Deployments holds its own copy of <c>apps/v1</c>, its namespace, its labels (three times: metadata,
/// selector, pod template) and its images, and each of 5,000 nodes its own copy of every image name it lists — the
/// same few hundred strings, tens of megabytes of them at Kubernetes' limits (issue #18).
/// <para>
/// Only strings up to <see cref="MaxLength"/> characters are pooled, and at most <see cref="MaxEntries"/> of them: a
/// string is never removed (an object's deletion does not know whether another still uses it), so the pool is bounded
/// instead; past the bound a string is simply kept as it came. The trimmers (<see cref="ResourceTrimmers"/>) never pass
/// it what is unique per object (names, uids, resourceVersions), which would fill it for nothing.
/// </para>
/// </summary>
public sealed class CachedStrings
{
    public const int MaxLength = 256;
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, string> _pool = new(StringComparer.Ordinal);

    /// <summary>Strings held by the pool.</summary>
    public int Count => _pool.Count;

    /// <summary>The pooled copy of <paramref name="value"/>, pooling it first if there is room; itself when too long or the pool is full.</summary>
    public string? Intern(string? value)
    {
        if (value is null || value.Length > MaxLength)
        {
            return value;
        }

        if (_pool.TryGetValue(value, out var pooled))
        {
            return pooled;
        }

        // Racing adds past the bound by a few entries at most: the bound is about memory, not an exact count.
        return _pool.Count < MaxEntries ? _pool.GetOrAdd(value, value) : value;
    }

    /// <summary>A copy of <paramref name="map"/> with pooled keys and values, sized to fit (a deserialized dictionary has room to grow).</summary>
    public IDictionary<string, string>? Intern(IDictionary<string, string>? map)
    {
        if (map is null)
        {
            return null;
        }

        var copy = new Dictionary<string, string>(map.Count, StringComparer.Ordinal);
        foreach (var (key, value) in map)
        {
            copy[Intern(key)!] = Intern(value)!;
        }

        return copy;
    }

    /// <summary>A copy of <paramref name="values"/> with pooled strings.</summary>
    public List<string>? Intern(IList<string>? values) => values is null ? null : [.. values.Select(value => Intern(value)!)];
}
