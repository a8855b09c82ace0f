using k8s.Models;

namespace Kwarm.Kubernetes;

/// <summary>
/// Kubernetes label-selector semantics (<c>matchLabels</c> AND every <c>matchExpressions</c> term), shared by
/// the Deployment selector of a PrePullPolicy and by node selectors. An empty selector matches everything;
/// what a <em>missing</em> selector means differs per field, so callers decide that before calling.
/// </summary>
public static class LabelSelectorMatcher
{
    public const string In = "In";
    public const string NotIn = "NotIn";
    public const string Exists = "Exists";
    public const string DoesNotExist = "DoesNotExist";

    public static bool Matches(V1LabelSelector selector, IDictionary<string, string>? labels)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return Matches(selector.MatchLabels, selector.MatchExpressions, labels);
    }

    public static bool Matches(
        IDictionary<string, string>? matchLabels,
        IEnumerable<V1LabelSelectorRequirement>? matchExpressions,
        IDictionary<string, string>? labels)
    {
        if (matchLabels is not null)
        {
            foreach (var (key, value) in matchLabels)
            {
                if (labels is null || !labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
                {
                    return false;
                }
            }
        }

        if (matchExpressions is not null)
        {
            foreach (var requirement in matchExpressions)
            {
                if (!Matches(requirement, labels))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// One requirement. An unknown operator, or <c>In</c>/<c>NotIn</c> without values, is invalid: the API server
    /// rejects such selectors, and treating them as "no match" keeps a malformed object from selecting everything.
    /// </summary>
    public static bool Matches(V1LabelSelectorRequirement requirement, IDictionary<string, string>? labels)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        string? actual = null;
        var present = labels is not null && labels.TryGetValue(requirement.Key ?? "", out actual);
        var values = requirement.Values;
        return requirement.OperatorProperty switch
        {
            In => values is { Count: > 0 } && present && values.Contains(actual!, StringComparer.Ordinal),
            NotIn => values is { Count: > 0 } && (!present || !values.Contains(actual!, StringComparer.Ordinal)),
            Exists => present,
            DoesNotExist => !present,
            _ => false,
        };
    }
}
