using k8s;
using k8s.Models;

namespace Kwarm.Resources;

/// <summary>The scheduler's rules for a required <c>nodeAffinity</c> (<c>V1NodeSelector</c>), over a node's name and labels.</summary>
public static class NodeAffinityTerms
{
    private const string Gt = "Gt";
    private const string Lt = "Lt";

    /// <summary>The only node field a <c>matchFields</c> requirement may name, as in a pod.</summary>
    public const string NodeNameField = "metadata.name";

    /// <summary>True when at least one term matches; no terms (or only empty ones) match no node, as in the scheduler.</summary>
    public static bool Matches(V1NodeSelector selector, string nodeName, IDictionary<string, string>? nodeLabels)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var labels = nodeLabels ?? new Dictionary<string, string>();
        return (selector.NodeSelectorTerms ?? []).Any(term =>
            (term.MatchExpressions is { Count: > 0 } || term.MatchFields is { Count: > 0 })
            && (term.MatchExpressions ?? []).All(requirement => Satisfies(requirement, labels.TryGetValue(requirement.Key ?? "", out var value) ? value : null))
            && (term.MatchFields ?? []).All(requirement => requirement.Key == NodeNameField && Satisfies(requirement, nodeName)));
    }

    /// <summary>
    /// What the API server would refuse in a pod's required node affinity (keys that are not label keys, an unknown
    /// operator, values that do not fit it: <c>Gt</c> and <c>Lt</c> take exactly one integer, <c>matchFields</c>
    /// exactly one node name under <c>In</c> or <c>NotIn</c>), each naming its field under <paramref name="fieldPath"/>.
    /// </summary>
    public static IEnumerable<string> Describe(V1NodeSelector selector, string fieldPath)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var terms = selector.NodeSelectorTerms ?? [];
        if (SchemaLimits.DescribeTooMany(terms.Count, SchemaLimits.NodeSelectorTerms, fieldPath + ".nodeSelectorTerms", "terms") is { } tooManyTerms)
        {
            yield return tooManyTerms;
        }

        for (var t = 0; t < terms.Count; t++)
        {
            var at = $"{fieldPath}.nodeSelectorTerms[{t}]";
            var expressions = terms[t]?.MatchExpressions ?? [];
            var fields = terms[t]?.MatchFields ?? [];
            foreach (var (count, list) in new[] { (expressions.Count, "matchExpressions"), (fields.Count, "matchFields") })
            {
                if (SchemaLimits.DescribeTooMany(count, SchemaLimits.NodeSelectorRequirements, $"{at}.{list}", "requirements") is { } tooMany)
                {
                    yield return tooMany;
                }
            }

            for (var e = 0; e < expressions.Count; e++)
            {
                if (DescribeExpression(expressions[e], $"{at}.matchExpressions[{e}]") is { } problem)
                {
                    yield return problem;
                }
            }

            for (var f = 0; f < fields.Count; f++)
            {
                if (DescribeField(fields[f], $"{at}.matchFields[{f}]") is { } problem)
                {
                    yield return problem;
                }
            }
        }
    }

    private static string? DescribeExpression(V1NodeSelectorRequirement? requirement, string fieldPath)
    {
        if (requirement is null)
        {
            return $"{fieldPath}: a requirement is required";
        }

        if (KubernetesNames.DescribeInvalidLabelKey(requirement.Key) is { } badKey)
        {
            return $"{fieldPath}.key: {badKey}";
        }

        var count = requirement.Values?.Count ?? 0;
        if (requirement.Values?.Select((value, index) => (value, index)).FirstOrDefault(entry => (entry.value?.Length ?? 0) > KubernetesNames.LabelValueMaxLength) is { value: not null } tooLong)
        {
            // No node label value is longer, so the requirement could never match; the schema bounds it for CEL's cost.
            return $"{fieldPath}.values[{tooLong.index}]: at most {KubernetesNames.LabelValueMaxLength} characters (a label value), got {tooLong.value.Length}";
        }

        return requirement.OperatorProperty switch
        {
            LabelSelectors.In or LabelSelectors.NotIn when count == 0 => $"{fieldPath}.values: {requirement.OperatorProperty} needs at least one value",
            LabelSelectors.Exists or LabelSelectors.DoesNotExist when count > 0 => $"{fieldPath}.values: {requirement.OperatorProperty} takes no values",
            Gt or Lt when count != 1 || !IsInteger(requirement.Values![0]) =>
                $"{fieldPath}.values: {requirement.OperatorProperty} takes exactly one integer value, got {FormatValues(requirement.Values)}",
            LabelSelectors.In or LabelSelectors.NotIn or LabelSelectors.Exists or LabelSelectors.DoesNotExist or Gt or Lt => null,
            var other => $"{fieldPath}.operator: \"{other}\" is not In, NotIn, Exists, DoesNotExist, Gt or Lt",
        };
    }

    private static string? DescribeField(V1NodeSelectorRequirement? requirement, string fieldPath)
    {
        if (requirement is null)
        {
            return $"{fieldPath}: a requirement is required";
        }

        if (requirement.Key != NodeNameField)
        {
            return $"{fieldPath}.key: \"{requirement.Key}\" is not a node field selector key (only {NodeNameField})";
        }

        if (requirement.OperatorProperty is not (LabelSelectors.In or LabelSelectors.NotIn))
        {
            return $"{fieldPath}.operator: \"{requirement.OperatorProperty}\" is not In or NotIn";
        }

        return requirement.Values is [var name]
            ? KubernetesNames.DescribeInvalidDnsSubdomain(name) is { } bad ? $"{fieldPath}.values[0]: {bad}" : null
            : $"{fieldPath}.values: {requirement.OperatorProperty} on a node field takes exactly one node name, got {FormatValues(requirement.Values)}";
    }

    private static bool IsInteger(string? value) =>
        long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _);

    private static string FormatValues(IList<string>? values) =>
        values is { Count: > 0 } ? "[" + string.Join(", ", values.Select(value => $"\"{KubernetesNames.Shorten(value ?? "")}\"")) + "]" : "none";

    private static bool Satisfies(V1NodeSelectorRequirement requirement, string? value)
    {
        var values = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            LabelSelectors.In => value is not null && values.Contains(value, StringComparer.Ordinal),
            LabelSelectors.NotIn => value is null || !values.Contains(value, StringComparer.Ordinal),
            LabelSelectors.Exists => value is not null,
            LabelSelectors.DoesNotExist => value is null,
            Gt => CompareAsInteger(value, values) is > 0,
            Lt => CompareAsInteger(value, values) is < 0,
            _ => false,
        };
    }

    /// <summary>Gt and Lt take exactly one integer value and compare it with the label read as an integer.</summary>
    private static int? CompareAsInteger(string? value, IList<string> values) =>
        values.Count == 1
        && long.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var actual)
        && long.TryParse(values[0], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var expected)
            ? actual.CompareTo(expected)
            : null;
}
