using System.Text.Json.Nodes;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>
/// Every value of <see cref="RefusedValue.All"/>: the CRD's OpenAPI schema refuses it naming the field, or (where only a
/// CEL rule can say it, which Kubernetes 1.24 does not run) the CRD carries that rule; and Kwarm's own validation
/// reports it either way, for what gets past the API server.
/// </summary>
public sealed class RefusedValueTests
{
    /// <summary>The schema node that carries the CEL rule for each value only CEL can refuse.</summary>
    private static readonly Dictionary<string, string> CelRuleAt = new(StringComparer.Ordinal)
    {
        ["node-affinity-gt-two-values"] = "spec.nodes.nodeAffinity.nodeSelectorTerms.matchExpressions",
        ["policy-selector-label-key"] = "spec.selector.matchLabels",
        ["policy-node-selector-label-key"] = "spec.nodeSelector.matchLabels",
        ["image-node-selector-label-key"] = "spec.nodes.selector.matchLabels",
    };

    [Theory]
    [MemberData(nameof(RefusedValue.Names), MemberType = typeof(RefusedValue))]
    public void The_schema_refuses_the_value_naming_the_field(string name)
    {
        var value = RefusedValue.Named(name);

        var errors = Crd(value).Validate(value.Instance());

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, errors));
        if (value.ApiServerField is null)
        {
            // As on Kubernetes 1.24, which drops CEL rules: the OpenAPI schema alone lets it through.
            Assert.Empty(errors);
            Assert.NotNull(SchemaAt(Crd(value).OpenApiSchema, CelRuleAt[name])["x-kubernetes-validations"]);
        }
        else
        {
            Assert.NotEmpty(errors);
            Assert.All(errors, error => Assert.StartsWith(value.KwarmField + ":", error, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(RefusedValue.Names), MemberType = typeof(RefusedValue))]
    public void Kwarm_reports_the_value_naming_the_field(string name)
    {
        var value = RefusedValue.Named(name);
        var instance = value.Instance();

        var problems = value.Kind == PrePullPolicy.KubeKind
            ? Samples.ToTyped<PrePullPolicy>(instance).Spec.Validate()
            : Samples.ToTyped<PrePullImage>(instance).Spec.Validate();

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, problems));
        Assert.Contains(problems, problem => problem.StartsWith(value.KwarmField + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_value_only_CEL_refuses_has_its_rule_named_here()
    {
        Assert.Equal(
            RefusedValue.All.Where(value => value.ApiServerField is null).Select(value => value.Name).Order(StringComparer.Ordinal),
            CelRuleAt.Keys.Order(StringComparer.Ordinal));
    }

    private static CustomResourceDefinitionFile Crd(RefusedValue value) =>
        value.Kind == PrePullPolicy.KubeKind ? CustomResourceDefinitionFile.PrePullPolicy : CustomResourceDefinitionFile.PrePullImage;

    private static JsonObject SchemaAt(JsonObject schema, string dottedPath)
    {
        var current = schema;
        foreach (var name in dottedPath.Split('.'))
        {
            current = current["properties"]![name]!.AsObject();
            while (current["type"]?.GetValue<string>() == "array")
            {
                current = current["items"]!.AsObject();
            }
        }

        return current;
    }
}
