using Kwarm.Resources;

namespace Kwarm.Workloads;

/// <summary>Oldest first (a policy without a creation time sorts last), then by name.</summary>
public sealed class PolicyPrecedence : IComparer<PrePullPolicy>
{
    public static PolicyPrecedence Instance { get; } = new();

    public int Compare(PrePullPolicy? x, PrePullPolicy? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return 1;
        }

        if (y is null)
        {
            return -1;
        }

        var byAge = DateTime.Compare(x.Metadata?.CreationTimestamp ?? DateTime.MaxValue, y.Metadata?.CreationTimestamp ?? DateTime.MaxValue);
        return byAge != 0 ? byAge : string.CompareOrdinal(x.Metadata?.Name, y.Metadata?.Name);
    }
}
