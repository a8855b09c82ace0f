using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>
/// The API server's pod rules Kwarm checks before tolerations and node affinity go into a pull pod: what a valid pod
/// template carries passes (the hold controller copies it), what a pod could not carry is named.
/// </summary>
public sealed class PodRulesTests
{
    [Theory]
    [InlineData("node-role.kubernetes.io/control-plane", "Exists", null, "NoSchedule", null, null)]
    [InlineData(null, "Exists", null, null, null, null)]
    [InlineData("dedicated", "Equal", "gpu", "NoExecute", 300L, null)]
    [InlineData("dedicated", null, "gpu", null, null, null)]
    [InlineData("dedicated", "", "gpu", "PreferNoSchedule", null, null)]
    [InlineData("dedicated", "Maybe", "gpu", null, null, "spec.tolerations[0].operator: \"Maybe\" is not Exists or Equal")]
    [InlineData(null, "Equal", "gpu", null, null, "spec.tolerations[0].operator: must be Exists when the key is empty")]
    [InlineData("dedicated", "Exists", "gpu", null, null, "spec.tolerations[0].value: must be empty when the operator is Exists")]
    [InlineData("dedicated", "Equal", "1,2", null, null, "spec.tolerations[0].value: \"1,2\" is not a label value")]
    [InlineData("bad key!", "Exists", null, null, null, "spec.tolerations[0].key: \"bad key!\" is not a label key")]
    [InlineData("dedicated", "Equal", "gpu", "Sometimes", null, "spec.tolerations[0].effect: \"Sometimes\" is not NoSchedule, PreferNoSchedule or NoExecute")]
    [InlineData("dedicated", "Equal", "gpu", "NoSchedule", 30L, "spec.tolerations[0].tolerationSeconds: only a NoExecute toleration may set it")]
    public void Tolerations(string? key, string? operation, string? value, string? effect, long? seconds, string? problem)
    {
        var toleration = new V1Toleration { Key = key, OperatorProperty = operation, Value = value, Effect = effect, TolerationSeconds = seconds };

        var described = TolerationRules.Describe(toleration, "spec.tolerations[0]");

        if (problem is null)
        {
            Assert.Null(described);
        }
        else
        {
            Assert.StartsWith(problem, described, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("topology.kubernetes.io/zone", "In", new[] { "eu-west-1a", "eu-west-1b" }, null)]
    [InlineData("cpu-count", "Gt", new[] { "4" }, null)]
    [InlineData("cpu-count", "Lt", new[] { "-1" }, null)]
    [InlineData("gpu", "Exists", new string[0], null)]
    [InlineData("cpu-count", "Gt", new[] { "4", "8" }, "values: Gt takes exactly one integer value, got [\"4\", \"8\"]")]
    [InlineData("cpu-count", "Lt", new[] { "four" }, "values: Lt takes exactly one integer value, got [\"four\"]")]
    [InlineData("cpu-count", "Gt", new string[0], "values: Gt takes exactly one integer value, got none")]
    [InlineData("zone", "In", new string[0], "values: In needs at least one value")]
    [InlineData("gpu", "DoesNotExist", new[] { "x" }, "values: DoesNotExist takes no values")]
    [InlineData("zone", "Near", new[] { "a" }, "operator: \"Near\" is not In, NotIn, Exists, DoesNotExist, Gt or Lt")]
    [InlineData("bad key!", "Exists", new string[0], "key: \"bad key!\" is not a label key")]
    public void Node_affinity_expressions(string key, string operation, string[] values, string? problem)
    {
        var affinity = new V1NodeSelector
        {
            NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = key, OperatorProperty = operation, Values = values }] }],
        };

        var problems = NodeAffinityTerms.Describe(affinity, "spec.nodes.nodeAffinity").ToList();

        if (problem is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.StartsWith("spec.nodes.nodeAffinity.nodeSelectorTerms[0].matchExpressions[0]." + problem, Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("metadata.name", "In", new[] { "node-1" }, null)]
    [InlineData("metadata.name", "NotIn", new[] { "node-1" }, null)]
    [InlineData("metadata.name", "In", new[] { "node-1", "node-2" }, "values: In on a node field takes exactly one node name")]
    [InlineData("metadata.name", "Exists", new string[0], "operator: \"Exists\" is not In or NotIn")]
    [InlineData("spec.unschedulable", "In", new[] { "true" }, "key: \"spec.unschedulable\" is not a node field selector key")]
    [InlineData("metadata.name", "In", new[] { "Node_1" }, "values[0]: \"Node_1\" is not a DNS-1123 subdomain")]
    public void Node_affinity_fields(string key, string operation, string[] values, string? problem)
    {
        var affinity = new V1NodeSelector
        {
            NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = key, OperatorProperty = operation, Values = values }] }],
        };

        var problems = NodeAffinityTerms.Describe(affinity, "a").ToList();

        if (problem is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.StartsWith("a.nodeSelectorTerms[0].matchFields[0]." + problem, Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Lists_longer_than_the_schema_allows_are_named()
    {
        var spec = new PrePullImageSpec
        {
            Image = "registry.local/web:1",
            Tolerations = [.. Enumerable.Range(0, SchemaLimits.Tolerations + 1).Select(i => new V1Toleration { Key = $"k{i}", OperatorProperty = "Exists" })],
            Nodes = new NodeTargets { Selector = new V1LabelSelector { MatchLabels = Enumerable.Range(0, SchemaLimits.SelectorEntries + 1).ToDictionary(i => $"l{i}", _ => "v") } },
        };

        Assert.Equal(
            ["spec.nodes.selector.matchLabels: at most 64 labels, got 65", "spec.tolerations: at most 128 tolerations, got 129"],
            spec.BlockingProblems());
    }
}
