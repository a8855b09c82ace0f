using System.Text;
using k8s;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>A status that fits the budget, and the finished nodes it had to leave out of <c>status.nodes</c>.</summary>
public sealed record BudgetedStatus(PrePullImageStatus Status, IReadOnlyList<string> OmittedFinishedNodes);

/// <summary>
/// Keeps a PrePullImage's status well under etcd's 1.5 MiB object limit and the 1 MiB of DESIGN §2 at 5,000 nodes.
/// Each step is taken only while the status is still too big, least informative data first:
/// <list type="number">
/// <item>error texts are always cut to <see cref="MaxErrorLength"/> characters (kubelet messages are shorter);</item>
/// <item>error texts are cut to 256, then to 96 characters (each says where it was cut);</item>
/// <item>finished nodes (pulled or skipped) lose their times and retry counts;</item>
/// <item>finished nodes are left out of <c>status.nodes</c> altogether (the summary still counts them, and the
///   Ready condition says how many are not listed). Pending, pulling and failed nodes are always listed: they carry
///   the attempt state that makes Kwarm stateless. Only a degenerate cluster (thousands of nodes with names of
///   hundreds of characters) reaches this step.</item>
/// </list>
/// </summary>
public static class StatusBudget
{
    public const int DefaultBudgetBytes = 900 * 1024;
    public const int MaxErrorLength = 1024;
    private const string Cut = " …(cut)";

    public static BudgetedStatus Fit(PrePullImageStatus status, int budgetBytes = DefaultBudgetBytes)
    {
        ArgumentNullException.ThrowIfNull(status);
        var nodes = status.Nodes?.Select(entry => entry with { Error = Shorten(entry.Error, MaxErrorLength) }).ToList() ?? [];
        var fitted = status with { Nodes = nodes };
        if (Size(fitted) <= budgetBytes)
        {
            return new BudgetedStatus(fitted, []);
        }

        foreach (var length in new[] { 256, 96 })
        {
            nodes = [.. nodes.Select(entry => entry with { Error = Shorten(entry.Error, length) })];
            fitted = status with { Nodes = nodes };
            if (Size(fitted) <= budgetBytes)
            {
                return new BudgetedStatus(fitted, []);
            }
        }

        nodes = [.. nodes.Select(entry => IsFinishedWell(entry)
            ? new NodePullStatus { Node = entry.Node, Status = entry.Status }
            : entry)];
        fitted = status with { Nodes = nodes };
        var size = Size(fitted);
        if (size <= budgetBytes)
        {
            return new BudgetedStatus(fitted, []);
        }

        // Drop finished entries from the end until the rest fits; each one's size is its JSON plus a comma.
        var omitted = new List<string>();
        var kept = new List<NodePullStatus>(nodes);
        for (var index = kept.Count - 1; index >= 0 && size > budgetBytes; index--)
        {
            if (!IsFinishedWell(kept[index]))
            {
                continue;
            }

            size -= Encoding.UTF8.GetByteCount(KubernetesJson.Serialize(kept[index])) + 1;
            omitted.Add(kept[index].Node);
            kept.RemoveAt(index);
        }

        var conditions = status.Conditions?.Select(condition => condition.Type == PrePullImageStatus.ReadyCondition
            ? new k8s.Models.V1Condition
            {
                Type = condition.Type,
                Status = condition.Status,
                Reason = condition.Reason,
                ObservedGeneration = condition.ObservedGeneration,
                LastTransitionTime = condition.LastTransitionTime,
                Message = $"{condition.Message}; {omitted.Count} finished nodes are not listed in status.nodes to keep the status under 1 MiB",
            }
            : condition).ToList();
        return new BudgetedStatus(status with { Nodes = kept, Conditions = conditions }, omitted);
    }

    public static int Size(PrePullImageStatus status) => Encoding.UTF8.GetByteCount(KubernetesJson.Serialize(status));

    private static bool IsFinishedWell(NodePullStatus entry) => entry.Status is NodePullState.Completed or NodePullState.Skipped;

    private static string? Shorten(string? text, int length) =>
        text is null || text.Length <= length ? text : string.Concat(text.AsSpan(0, length - Cut.Length), Cut);
}
