using k8s.Models;

namespace Kwarm.Resources;

/// <summary>
/// Kubernetes label-selector semantics (<c>matchLabels</c> AND every <c>matchExpressions</c> requirement), for
/// selectors read from Kwarm's resources. The API server validates selectors on native objects but not inside a
/// custom resource beyond its schema, so a malformed requirement selects nothing and is reported by
/// <see cref="Describe"/> instead of throwing.
/// </summary>
public static class LabelSelectors
{
    public const string In = "In";
    public const string NotIn = "NotIn";
    public const string Exists = "Exists";
    public const string DoesNotExist = "DoesNotExist";

    /// <summary>True when <paramref name="labels"/> satisfy the selector; an empty selector selects everything.</summary>
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
        labels ??= new Dictionary<string, string>();
        foreach (var (key, value) in matchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return (matchExpressions ?? []).All(requirement => Satisfies(requirement, labels));
    }

    /// <summary>Null for a well-formed requirement, else what is wrong with it, naming <paramref name="fieldPath"/>.</summary>
    public static string? Describe(V1LabelSelectorRequirement requirement, string fieldPath)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        var hasValues = requirement.Values is { Count: > 0 };
        return requirement.OperatorProperty switch
        {
            _ when string.IsNullOrEmpty(requirement.Key) => $"{fieldPath}.key: a label key is required",
            In or NotIn when !hasValues => $"{fieldPath}.values: {requirement.OperatorProperty} needs at least one value",
            Exists or DoesNotExist when hasValues => $"{fieldPath}.values: {requirement.OperatorProperty} takes no values",
            In or NotIn or Exists or DoesNotExist => null,
            var other => $"{fieldPath}.operator: \"{other}\" is not In, NotIn, Exists or DoesNotExist",
        };
    }

    /// <summary>What is wrong with each malformed requirement of a <c>matchExpressions</c> list at <paramref name="fieldPath"/>.</summary>
    public static IEnumerable<string> Describe(IEnumerable<V1LabelSelectorRequirement>? requirements, string fieldPath) =>
        (requirements ?? [])
            .Select((requirement, index) => Describe(requirement, $"{fieldPath}[{index}]"))
            .OfType<string>();

    private static bool Satisfies(V1LabelSelectorRequirement requirement, IDictionary<string, string> labels)
    {
        if (Describe(requirement, "") is not null)
        {
            return false;
        }

        var present = labels.TryGetValue(requirement.Key, out var value);
        return requirement.OperatorProperty switch
        {
            In => present && requirement.Values.Contains(value, StringComparer.Ordinal),
            NotIn => !present || !requirement.Values.Contains(value, StringComparer.Ordinal),
            Exists => present,
            _ => !present,
        };
    }
}
