using System.Collections.Immutable;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Admission;

/// <summary>
/// Copy-on-write: writers (one informer, rare events) rebuild an immutable array under a lock; readers (every
/// admission request) take the current array without locking.
/// </summary>
public sealed class InMemoryPolicyCatalog : IPolicyCatalog
{
    private readonly Lock _writeLock = new();
    private volatile IReadOnlyList<PrePullPolicy> _policies = ImmutableArray<PrePullPolicy>.Empty;

    public IReadOnlyList<PrePullPolicy> Policies => _policies;

    public void Replace(IEnumerable<PrePullPolicy> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var byName = new Dictionary<string, PrePullPolicy>(StringComparer.Ordinal);
        foreach (var policy in policies)
        {
            byName[NameOf(policy)] = policy;
        }

        lock (_writeLock)
        {
            Publish(byName.Values);
        }
    }

    public void Upsert(PrePullPolicy policy)
    {
        var name = NameOf(policy);
        lock (_writeLock)
        {
            Publish(_policies.Where(existing => !string.Equals(existing.Metadata.Name, name, StringComparison.Ordinal)).Append(policy));
        }
    }

    public void Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_writeLock)
        {
            Publish(_policies.Where(existing => !string.Equals(existing.Metadata.Name, name, StringComparison.Ordinal)));
        }
    }

    /// <summary>Callers hold the write lock.</summary>
    private void Publish(IEnumerable<PrePullPolicy> policies) =>
        _policies = policies.Order(PolicyPrecedence.Instance).ToImmutableArray();

    private static string NameOf(PrePullPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Metadata?.Name is { Length: > 0 } name
            ? name
            : throw new ArgumentException("A PrePullPolicy must have metadata.name.", nameof(policy));
    }
}
