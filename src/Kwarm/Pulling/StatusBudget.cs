using System.Text;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// Keeps a PrePullImage's status under the 1 MiB of DESIGN §2 at 5,000 nodes (etcd refuses objects over 1.5 MiB).
/// Each step is taken only while the status is still too big, least informative data first:
/// <list type="number">
/// <item>error texts are always cut to <see cref="MaxErrorLength"/> characters (kubelet messages are shorter);</item>
/// <item>an error text shared by many nodes (a missing secret fails every node alike) is kept on its first
///   <see cref="RepeatedErrorsKept"/> nodes only; the Ready condition lists the distinct errors with their node counts;</item>
/// <item>the remaining error texts are cut to 256, then to 96 characters (each says where it was cut);</item>
/// <item>pulled and skipped nodes lose their times and retry counts, failed ones their start time;</item>
/// <item>entries are left out of <c>status.nodes</c> (the summary still counts them and the Ready condition says how
///   many are not listed), those the API can tell again first: pulled, skipped, not yet started, pulling (its Job
///   says which attempt it is), failed for good, and last those waiting for a retry. Only a degenerate cluster
///   (thousands of nodes whose names run to hundreds of characters) gets here.</item>
/// </list>
/// The engine keeps the full entries in memory, so the only cost of a compacted status comes after a restart: less
/// detail, and left-out nodes pulled (or retried) once more.
/// </summary>
public static class StatusBudget
{
    public const int DefaultBudgetBytes = 900 * 1024;
    public const int MaxErrorLength = 1024;
    public const int RepeatedErrorsKept = 10;
    private const int DistinctErrorsListed = 5;
    private const int ListedErrorLength = 512;
    private const string Cut = " …(cut)";

    public static BudgetedStatus Fit(PrePullImageStatus status, int budgetBytes = DefaultBudgetBytes)
    {
        ArgumentNullException.ThrowIfNull(status);
        var original = status.Nodes?.ToList() ?? [];
        var nodes = original.Select(entry => entry with { Error = Shorten(entry.Error, MaxErrorLength) }).ToList();
        var notes = new List<string>();
        if (TryFinish(status, original, nodes, notes, budgetBytes) is { } small)
        {
            return small;
        }

        var repeated = nodes.Where(entry => entry.Error is not null)
            .GroupBy(entry => entry.Error!, StringComparer.Ordinal)
            .Where(group => group.Count() > RepeatedErrorsKept)
            .ToList();
        if (repeated.Count > 0)
        {
            var drop = repeated.SelectMany(group => group.Skip(RepeatedErrorsKept)).ToHashSet(ReferenceEqualityComparer.Instance);
            nodes = [.. nodes.Select(entry => drop.Contains(entry) ? entry with { Error = null } : entry)];
            notes.Add("errors: " + string.Join("; ", repeated
                .OrderByDescending(group => group.Count())
                .Take(DistinctErrorsListed)
                .Select(group => $"{group.Count()} nodes: {Shorten(group.Key, ListedErrorLength)}")));
            if (TryFinish(status, original, nodes, notes, budgetBytes) is { } deduplicated)
            {
                return deduplicated;
            }
        }

        foreach (var length in new[] { 256, 96 })
        {
            nodes = [.. nodes.Select(entry => entry with { Error = Shorten(entry.Error, length) })];
            if (TryFinish(status, original, nodes, notes, budgetBytes) is { } shortened)
            {
                return shortened;
            }
        }

        nodes = [.. nodes.Select(entry => entry.Status switch
        {
            NodePullState.Completed or NodePullState.Skipped => new NodePullStatus { Node = entry.Node, Status = entry.Status },
            NodePullState.Failed => entry with { StartedAt = null },
            _ => entry,
        })];
        if (TryFinish(status, original, nodes, notes, budgetBytes) is { } stripped)
        {
            return stripped;
        }

        // Leave entries out, cheapest to lose first, until the rest fits (each costs its JSON plus a comma),
        // keeping room for the longer condition message.
        var size = Size(Compose(status, nodes, notes));
        var omitted = new HashSet<int>();
        foreach (var (entry, index) in nodes.Select((entry, index) => (entry, index))
            .OrderBy(pair => OmissionRank(pair.entry))
            .ThenByDescending(pair => pair.index))
        {
            if (size <= budgetBytes - 256)
            {
                break;
            }

            size -= Encoding.UTF8.GetByteCount(KwarmJson.Serialize(entry)) + 1;
            omitted.Add(index);
        }

        notes.Add($"{omitted.Count} nodes are not listed in status.nodes to keep the status under 1 MiB");
        var kept = nodes.Where((_, index) => !omitted.Contains(index)).ToList();
        return new BudgetedStatus(Compose(status, kept, notes), Changed(original, nodes, omitted), omitted.Count);
    }

    public static int Size(PrePullImageStatus status) => Encoding.UTF8.GetByteCount(KwarmJson.Serialize(status));

    private static BudgetedStatus? TryFinish(PrePullImageStatus status, List<NodePullStatus> original, List<NodePullStatus> nodes, List<string> notes, int budgetBytes)
    {
        var composed = Compose(status, nodes, notes);
        return Size(composed) <= budgetBytes ? new BudgetedStatus(composed, Changed(original, nodes, []), 0) : null;
    }

    private static List<NodePullStatus> Changed(List<NodePullStatus> original, List<NodePullStatus> compact, HashSet<int> omitted) =>
        [.. original.Where((entry, index) => omitted.Contains(index) || !Equals(entry, compact[index]))];

    private static PrePullImageStatus Compose(PrePullImageStatus status, List<NodePullStatus> nodes, List<string> notes) =>
        notes.Count == 0
            ? status with { Nodes = nodes }
            : status with
            {
                Nodes = nodes,
                Conditions = status.Conditions?.Select(condition => condition.Type == PrePullImageStatus.ReadyCondition
                    ? new k8s.Models.V1Condition
                    {
                        Type = condition.Type,
                        Status = condition.Status,
                        Reason = condition.Reason,
                        ObservedGeneration = condition.ObservedGeneration,
                        LastTransitionTime = condition.LastTransitionTime,
                        Message = string.Join("; ", notes.Prepend(condition.Message)),
                    }
                    : condition).ToList(),
            };

    /// <summary>Lower ranks are left out first: they are the easiest to tell again (or to redo) after a restart.</summary>
    private static int OmissionRank(NodePullStatus entry) => entry.Status switch
    {
        NodePullState.Completed => 0,
        NodePullState.Skipped => 1,
        NodePullState.Pending when entry.RetryCount is null or 0 => 2,
        NodePullState.Pulling => 3,
        NodePullState.Failed => 4,
        _ => 5,
    };

    private static string? Shorten(string? text, int length) =>
        text is null || text.Length <= length ? text : string.Concat(text.AsSpan(0, length - Cut.Length), Cut);
}
