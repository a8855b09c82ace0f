using k8s.Models;

namespace Kwarm.Resources;

/// <summary>
/// Kubernetes label-selector semantics (<c>matchLabels</c> AND every <c>matchExpressions</c> requirement), for
/// selectors read from Kwarm's resources. The API server validates selectors on native objects but not inside a
/// custom resource beyond its schema, so a malformed requirement (no key, an unknown operator, values that do not
/// fit it) selects nothing and is reported by <see cref="Describe"/> instead of throwing. A key or value that is not
/// a label key or value is reported too.
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

    /// <summary>Null for a well-formed requirement, else what is wrong with it (the first problem), naming <paramref name="fieldPath"/>.</summary>
    public static string? Describe(V1LabelSelectorRequirement requirement, string fieldPath)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        if (string.IsNullOrEmpty(requirement.Key))
        {
            return $"{fieldPath}.key: a label key is required";
        }

        if (KubernetesNames.DescribeInvalidLabelKey(requirement.Key) is { } badKey)
        {
            return $"{fieldPath}.key: {badKey}";
        }

        if (DescribeShape(requirement, fieldPath) is { } shapeProblem)
        {
            return shapeProblem;
        }

        return (requirement.Values ?? [])
            .Select((value, index) => KubernetesNames.DescribeInvalidLabelValue(value) is { } badValue ? $"{fieldPath}.values[{index}]: {badValue}" : null)
            .FirstOrDefault(problem => problem is not null);
    }

    /// <summary>What is wrong with each malformed requirement of a <c>matchExpressions</c> list at <paramref name="fieldPath"/>.</summary>
    public static IEnumerable<string> Describe(IEnumerable<V1LabelSelectorRequirement>? requirements, string fieldPath) =>
        (requirements ?? [])
            .Select((requirement, index) => Describe(requirement, $"{fieldPath}[{index}]"))
            .OfType<string>();

    /// <summary>
    /// Keys of a <c>matchLabels</c> map at <paramref name="fieldPath"/> that are not label keys, and values that are not
    /// label values. Such an entry can never match a label, so the selector selects nothing; the schema checks the
    /// values and (with CEL, Kubernetes 1.25 and later) the keys, and this reports what got past it.
    /// </summary>
    public static IEnumerable<string> DescribeMatchLabels(IDictionary<string, string>? matchLabels, string fieldPath)
    {
        foreach (var (key, value) in matchLabels ?? new Dictionary<string, string>())
        {
            if (KubernetesNames.DescribeInvalidLabelKey(key) is { } badKey)
            {
                yield return $"{fieldPath}: key {badKey}";
            }
            else if (KubernetesNames.DescribeInvalidLabelValue(value) is { } badValue)
            {
                yield return $"{fieldPath}.{key}: {badValue}";
            }
        }
    }

    /// <summary>Every problem of a label selector at <paramref name="fieldPath"/>: its <c>matchLabels</c>, then its <c>matchExpressions</c>.</summary>
    public static IEnumerable<string> DescribeSelector(
        IDictionary<string, string>? matchLabels, IList<V1LabelSelectorRequirement>? matchExpressions, string fieldPath)
    {
        var sizes = new[]
        {
            SchemaLimits.DescribeTooMany(matchLabels?.Count ?? 0, SchemaLimits.SelectorEntries, fieldPath + ".matchLabels", "labels"),
            SchemaLimits.DescribeTooMany(matchExpressions?.Count ?? 0, SchemaLimits.SelectorEntries, fieldPath + ".matchExpressions", "requirements"),
        };
        return sizes.OfType<string>()
            .Concat(DescribeMatchLabels(matchLabels, fieldPath + ".matchLabels"))
            .Concat(Describe(matchExpressions, fieldPath + ".matchExpressions"));
    }

    /// <summary>The operator and the number of values: what decides whether a requirement can be evaluated at all.</summary>
    private static string? DescribeShape(V1LabelSelectorRequirement requirement, string fieldPath)
    {
        var hasValues = requirement.Values is { Count: > 0 };
        return requirement.OperatorProperty switch
        {
            In or NotIn when !hasValues => $"{fieldPath}.values: {requirement.OperatorProperty} needs at least one value",
            Exists or DoesNotExist when hasValues => $"{fieldPath}.values: {requirement.OperatorProperty} takes no values",
            In or NotIn or Exists or DoesNotExist => null,
            var other => $"{fieldPath}.operator: \"{other}\" is not In, NotIn, Exists or DoesNotExist",
        };
    }

    /// <summary>
    /// A requirement without a key or of the wrong shape matches nothing. A key or value that is not a label key or
    /// value is reported by <see cref="Describe"/> but not re-checked here, on every match of every node: no object
    /// carries such a label, so the requirement already means what it says.
    /// </summary>
    private static bool Satisfies(V1LabelSelectorRequirement requirement, IDictionary<string, string> labels)
    {
        if (string.IsNullOrEmpty(requirement.Key) || DescribeShape(requirement, "") is not null)
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
