using System.Text.Json.Nodes;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>
/// The bounds and patterns of the CRD schemas are the constants Kwarm checks with (one source of truth): what the
/// schema refuses, Kwarm reports when it gets through, and the hold controller never creates.
/// </summary>
public sealed class SchemaBoundsTests
{
    [Theory]
    [InlineData("PrePullPolicy", "spec.selector.matchLabels", "maxProperties", SchemaLimits.SelectorEntries)]
    [InlineData("PrePullPolicy", "spec.selector.matchExpressions", "maxItems", SchemaLimits.SelectorEntries)]
    [InlineData("PrePullPolicy", "spec.nodeSelector.matchLabels", "maxProperties", SchemaLimits.SelectorEntries)]
    [InlineData("PrePullPolicy", "spec.nodeSelector.matchExpressions", "maxItems", SchemaLimits.SelectorEntries)]
    [InlineData("PrePullImage", "spec.nodes.selector.matchLabels", "maxProperties", SchemaLimits.SelectorEntries)]
    [InlineData("PrePullImage", "spec.nodes.selector.matchExpressions", "maxItems", SchemaLimits.SelectorEntries)]
    [InlineData("PrePullImage", "spec.nodes.nodeAffinity.nodeSelectorTerms", "maxItems", SchemaLimits.NodeSelectorTerms)]
    [InlineData("PrePullImage", "spec.nodes.nodeAffinity.nodeSelectorTerms[].matchExpressions", "maxItems", SchemaLimits.NodeSelectorRequirements)]
    [InlineData("PrePullImage", "spec.nodes.nodeAffinity.nodeSelectorTerms[].matchFields", "maxItems", SchemaLimits.NodeSelectorRequirements)]
    [InlineData("PrePullImage", "spec.tolerations", "maxItems", SchemaLimits.Tolerations)]
    [InlineData("PrePullImage", "spec.image", "maxLength", ImageReference.MaxLength)]
    [InlineData("PrePullImage", "spec.imageDigest", "maxLength", ImageReference.DigestMaxLength)]
    [InlineData("PrePullPolicy", "spec.retry.maxAttempts", "maximum", RetrySpec.MaxAttemptsLimit)]
    [InlineData("PrePullPolicy", "spec.retry.backoffSeconds", "maximum", RetrySpec.BackoffSecondsLimit)]
    [InlineData("PrePullImage", "spec.retry.maxAttempts", "maximum", RetrySpec.MaxAttemptsLimit)]
    [InlineData("PrePullImage", "spec.retry.backoffSeconds", "maximum", RetrySpec.BackoffSecondsLimit)]
    [InlineData("PrePullPolicy", "spec.selector.matchExpressions[].key", "maxLength", KubernetesNames.LabelKeyMaxLength)]
    [InlineData("PrePullPolicy", "spec.selector.matchExpressions[].values[]", "maxLength", KubernetesNames.LabelValueMaxLength)]
    [InlineData("PrePullPolicy", "spec.selector.namespaces[]", "maxLength", KubernetesNames.DnsLabelMaxLength)]
    [InlineData("PrePullImage", "spec.nodes.names[]", "maxLength", KubernetesNames.DnsSubdomainMaxLength)]
    [InlineData("PrePullImage", "spec.tolerations[].key", "maxLength", KubernetesNames.LabelKeyMaxLength)]
    [InlineData("PrePullImage", "spec.tolerations[].value", "maxLength", KubernetesNames.LabelValueMaxLength)]
    [InlineData("PrePullImage", "spec.nodes.nodeAffinity.nodeSelectorTerms[].matchExpressions[].values[]", "maxLength", KubernetesNames.LabelValueMaxLength)]
    public void A_schema_bound_is_the_one_Kwarm_checks(string kind, string path, string keyword, int expected)
    {
        Assert.Equal(expected, At(kind, path)[keyword]!.GetValue<int>());
    }

    [Theory]
    [InlineData("PrePullPolicy", "spec.selector.matchExpressions[].key", KubernetesNames.LabelKeyPattern)]
    [InlineData("PrePullPolicy", "spec.selector.matchExpressions[].values[]", KubernetesNames.LabelValuePattern)]
    [InlineData("PrePullPolicy", "spec.selector.matchLabels{}", KubernetesNames.LabelValuePattern)]
    [InlineData("PrePullPolicy", "spec.selector.namespaces[]", KubernetesNames.DnsLabelPattern)]
    [InlineData("PrePullPolicy", "spec.nodeSelector.matchExpressions[].key", KubernetesNames.LabelKeyPattern)]
    [InlineData("PrePullPolicy", "spec.nodeSelector.matchLabels{}", KubernetesNames.LabelValuePattern)]
    [InlineData("PrePullPolicy", "spec.priorityClassName", KubernetesNames.DnsSubdomainPattern)]
    [InlineData("PrePullImage", "spec.nodes.names[]", KubernetesNames.DnsSubdomainPattern)]
    [InlineData("PrePullImage", "spec.nodes.selector.matchExpressions[].key", KubernetesNames.LabelKeyPattern)]
    [InlineData("PrePullImage", "spec.nodes.selector.matchLabels{}", KubernetesNames.LabelValuePattern)]
    [InlineData("PrePullImage", "spec.nodes.nodeAffinity.nodeSelectorTerms[].matchExpressions[].key", KubernetesNames.LabelKeyPattern)]
    [InlineData("PrePullImage", "spec.nodes.nodeAffinity.nodeSelectorTerms[].matchFields[].values[]", KubernetesNames.DnsSubdomainPattern)]
    [InlineData("PrePullImage", "spec.tolerations[].value", KubernetesNames.LabelValuePattern)]
    [InlineData("PrePullImage", "spec.serviceAccountName", KubernetesNames.DnsSubdomainPattern)]
    [InlineData("PrePullImage", "spec.priorityClassName", KubernetesNames.DnsSubdomainPattern)]
    public void A_schema_pattern_is_the_one_Kwarm_checks(string kind, string path, string expected)
    {
        Assert.Equal(expected, At(kind, path)["pattern"]!.GetValue<string>());
    }

    [Fact]
    public void A_toleration_key_is_a_label_key_or_empty()
    {
        var pattern = At("PrePullImage", "spec.tolerations[].key")["pattern"]!.GetValue<string>();

        Assert.Equal("^(" + KubernetesNames.LabelKeyPattern[1..^1] + ")?$", pattern);
    }

    [Theory]
    [InlineData("PrePullImage", "spec.tolerations[].operator", new[] { "", "Exists", "Equal" })]
    [InlineData("PrePullImage", "spec.tolerations[].effect", new[] { "", "NoSchedule", "PreferNoSchedule", "NoExecute" })]
    [InlineData("PrePullImage", "spec.nodes.nodeAffinity.nodeSelectorTerms[].matchFields[].key", new[] { NodeAffinityTerms.NodeNameField })]
    public void A_schema_enum_is_the_set_Kwarm_checks(string kind, string path, string[] expected)
    {
        var values = At(kind, path)["enum"]!.AsArray().Select(value => value!.GetValue<string>());

        Assert.Equal(expected, values);
        if (path.EndsWith("].operator", StringComparison.Ordinal))
        {
            Assert.Equal(TolerationRules.Operators, values);
        }
        else if (path.EndsWith("].effect", StringComparison.Ordinal))
        {
            Assert.Equal(TolerationRules.Effects, values);
        }
    }

    /// <summary>The schema of a field by dotted path; <c>name[]</c> steps into a list's items, <c>name{}</c> into a map's values.</summary>
    private static JsonObject At(string kind, string dottedPath)
    {
        var current = (kind == "PrePullPolicy" ? CustomResourceDefinitionFile.PrePullPolicy : CustomResourceDefinitionFile.PrePullImage).OpenApiSchema;
        foreach (var segment in dottedPath.Split('.'))
        {
            var name = segment.TrimEnd('[', ']', '{', '}');
            current = current["properties"]?[name]?.AsObject() ?? throw new KeyNotFoundException($"{dottedPath}: no field {name}");
            if (segment.EndsWith("[]", StringComparison.Ordinal))
            {
                current = current["items"]!.AsObject();
            }
            else if (segment.EndsWith("{}", StringComparison.Ordinal))
            {
                current = current["additionalProperties"]!.AsObject();
            }
        }

        return current;
    }
}
