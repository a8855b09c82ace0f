using k8s.Models;

namespace Kwarm.Resources;

/// <summary>Kubernetes' toleration semantics (<c>k8s.io/api/core/v1.Toleration.ToleratesTaint</c>).</summary>
public static class TolerationMatcher
{
    public const string NoSchedule = "NoSchedule";
    public const string NoExecute = "NoExecute";

    /// <summary>
    /// True when a pod with <paramref name="tolerations"/> may be scheduled on a node with <paramref name="taints"/>:
    /// every <c>NoSchedule</c> and <c>NoExecute</c> taint is tolerated (<c>PreferNoSchedule</c> never blocks).
    /// </summary>
    public static bool ToleratesAll(IEnumerable<V1Taint>? taints, IEnumerable<V1Toleration>? tolerations)
    {
        var list = tolerations?.ToList() ?? [];
        return (taints ?? []).Where(taint => taint.Effect is NoSchedule or NoExecute)
            .All(taint => list.Any(toleration => Tolerates(toleration, taint)));
    }

    /// <summary>
    /// An empty effect matches every effect; operator <c>Exists</c> ignores the value and, with an empty key, matches
    /// every key; operator <c>Equal</c> (the default) needs the same key and value. Anything else matches nothing.
    /// </summary>
    public static bool Tolerates(V1Toleration toleration, V1Taint taint)
    {
        ArgumentNullException.ThrowIfNull(toleration);
        ArgumentNullException.ThrowIfNull(taint);
        if (!string.IsNullOrEmpty(toleration.Effect) && !string.Equals(toleration.Effect, taint.Effect, StringComparison.Ordinal))
        {
            return false;
        }

        var keyMatches = string.IsNullOrEmpty(toleration.Key)
            ? toleration.OperatorProperty == "Exists"
            : string.Equals(toleration.Key, taint.Key, StringComparison.Ordinal);
        if (!keyMatches)
        {
            return false;
        }

        return toleration.OperatorProperty switch
        {
            "Exists" => true,
            null or "" or "Equal" => string.Equals(toleration.Value ?? "", taint.Value ?? "", StringComparison.Ordinal),
            _ => false,
        };
    }
}
