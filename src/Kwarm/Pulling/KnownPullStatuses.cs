using System.Collections.Concurrent;
using System.Collections.Immutable;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// What the reconciler knows of each PrePullImage's status beyond the cache, kept for one leadership term: the status
/// it wrote last while the cache still shows a version that write replaced (read-your-writes; see the README for the
/// measurement that keeps it), and the node entries <see cref="StatusBudget"/> left out of the written status.
/// The reconciler writes it; the scheduling loop only reads it, to check that a grant is still wanted.
/// </summary>
public sealed class KnownPullStatuses
{
    private readonly ResourceCache<PrePullImage> _images;
    private readonly bool _readYourWrites;
    private readonly ConcurrentDictionary<string, WrittenVersions> _lastWritten = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<NodePullStatus>> _remembered = new(StringComparer.Ordinal);

    public KnownPullStatuses(ResourceCache<PrePullImage> images)
        : this(images, readYourWrites: true)
    {
    }

    /// <summary>
    /// <paramref name="readYourWrites"/> false plans from the cache alone (a stale status earns a 409 and a requeue):
    /// only for the comparison in <c>ReadYourWritesComparisonTests</c>.
    /// </summary>
    internal KnownPullStatuses(ResourceCache<PrePullImage> images, bool readYourWrites)
    {
        _images = images;
        _readYourWrites = readYourWrites;
    }

    /// <summary>
    /// The cached object, or the one written last here while the cache still holds a version that these writes replaced
    /// (the watch events are on their way). Planning from such an older status would at best earn a 409, and at worst,
    /// when the older status happens to equal the new plan, ask again for a pull already done.
    /// </summary>
    public PrePullImage? Current(string key)
    {
        var cached = _images.Get(key);
        if (_lastWritten.TryGetValue(key, out var written))
        {
            if (cached is not null && cached.Metadata?.Uid == written.Latest.Metadata?.Uid
                && written.Superseded.Contains(cached.Metadata?.ResourceVersion ?? ""))
            {
                return written.Latest;
            }

            // The cache caught up (or someone else wrote, e.g. a new spec): it is the truth again.
            _lastWritten.TryRemove(key, out _);
        }

        return cached;
    }

    /// <summary>A status write succeeded: <paramref name="written"/> replaced <paramref name="replacedVersion"/> (and, when <paramref name="chain"/>, every version the last write replaced).</summary>
    public void Wrote(string key, PrePullImage written, string? replacedVersion, bool chain)
    {
        if (!_readYourWrites)
        {
            return;
        }

        var superseded = chain && _lastWritten.TryGetValue(key, out var earlier) ? earlier.Superseded : [];
        _lastWritten[key] = new WrittenVersions(written, superseded.Add(replacedVersion ?? ""));
    }

    public void Forget(string key) => _lastWritten.TryRemove(key, out _);

    /// <summary>The full node entries of an object whose written status had to leave some out.</summary>
    public IReadOnlyList<NodePullStatus>? Remembered(string uid) => _remembered.GetValueOrDefault(uid);

    public void Remember(string uid, IReadOnlyList<NodePullStatus> entries)
    {
        if (entries.Count > 0)
        {
            _remembered[uid] = entries;
        }
        else
        {
            _remembered.TryRemove(uid, out _);
        }
    }

    public void ForgetRemembered(string uid) => _remembered.TryRemove(uid, out _);

    /// <summary>The last status written for an object, and the resourceVersions it made obsolete.</summary>
    private sealed record WrittenVersions(PrePullImage Latest, ImmutableHashSet<string> Superseded);
}
