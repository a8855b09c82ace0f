using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

public sealed class SelectionTests
{
    private static readonly Dictionary<string, string> Web = new()
    {
        [KwarmApi.EnabledLabel] = "true",
        ["app.kubernetes.io/name"] = "web",
        ["tier"] = "frontend",
    };

    [Theory]
    [InlineData("In", new[] { "frontend", "backend" }, true)]
    [InlineData("In", new[] { "backend" }, false)]
    [InlineData("NotIn", new[] { "experimental" }, true)]
    [InlineData("NotIn", new[] { "frontend" }, false)]
    [InlineData("Exists", new string[0], true)]
    [InlineData("DoesNotExist", new string[0], false)]
    public void Expressions_follow_label_selector_semantics(string op, string[] values, bool matches)
    {
        var requirement = new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = op, Values = values };

        Assert.Equal(matches, LabelSelectors.Matches(null, [requirement], Web));
    }

    [Theory]
    [InlineData("NotIn", new[] { "x" }, true)]
    [InlineData("DoesNotExist", new string[0], true)]
    [InlineData("In", new[] { "x" }, false)]
    [InlineData("Exists", new string[0], false)]
    public void Absent_label_satisfies_only_NotIn_and_DoesNotExist(string op, string[] values, bool matches)
    {
        var requirement = new V1LabelSelectorRequirement { Key = "missing", OperatorProperty = op, Values = values };

        Assert.Equal(matches, LabelSelectors.Matches(null, [requirement], Web));
    }

    [Theory]
    [InlineData("in", new[] { "frontend" }, "operator")]
    [InlineData("In", new string[0], "values")]
    [InlineData("Exists", new[] { "frontend" }, "values")]
    public void Malformed_requirement_selects_nothing_and_is_described(string op, string[] values, string field)
    {
        var requirement = new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = op, Values = values };

        Assert.False(LabelSelectors.Matches(null, [requirement], Web));
        Assert.StartsWith($"spec.x[0].{field}:", LabelSelectors.Describe(requirement, "spec.x[0]"), StringComparison.Ordinal);
    }

    [Fact]
    public void Basic_policy_selects_the_example_deployment_in_any_namespace_and_nothing_unlabelled()
    {
        var policy = Samples.ToTyped<PrePullPolicy>(Samples.Read(Samples.BasicPolicy)).Spec;
        var deployment = Samples.ToTyped<V1Deployment>(Samples.Read(Samples.Deployment));

        Assert.True(policy.SelectsDeployment("default", deployment.Metadata.Labels));
        Assert.True(policy.SelectsDeployment("shop", deployment.Metadata.Labels));
        Assert.False(policy.SelectsDeployment("default", new Dictionary<string, string> { ["app"] = "web" }));
        Assert.False(policy.SelectsDeployment("default", null));
    }

    [Fact]
    public void Full_policy_limits_namespaces_and_excludes_experimental_tiers()
    {
        var policy = Samples.ToTyped<PrePullPolicy>(Samples.Read(Samples.FullPolicy)).Spec;

        Assert.True(policy.SelectsDeployment("shop", Web));
        Assert.False(policy.SelectsDeployment("default", Web));
        Assert.False(policy.SelectsDeployment("shop", new Dictionary<string, string>(Web) { ["tier"] = "experimental" }));
        Assert.True(policy.SelectsNode(new Dictionary<string, string> { ["kubernetes.io/os"] = "linux", ["node.example.com/pool"] = "memory" }));
        Assert.False(policy.SelectsNode(new Dictionary<string, string> { ["kubernetes.io/os"] = "linux", ["node.example.com/pool"] = "gpu" }));
    }

    [Fact]
    public void Empty_selector_selects_every_deployment_and_a_missing_one_selects_none()
    {
        Assert.True(new PrePullPolicySpec { Selector = new DeploymentSelector() }.SelectsDeployment("any", null));
        Assert.False(new PrePullPolicySpec().SelectsDeployment("any", Web));
        Assert.Contains(new PrePullPolicySpec().Validate(), problem => problem.StartsWith("spec.selector:", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_names_each_malformed_requirement()
    {
        var policy = new PrePullPolicySpec
        {
            Selector = new DeploymentSelector
            {
                MatchExpressions = [new() { Key = "tier", OperatorProperty = "Exists" }, new() { Key = "tier", OperatorProperty = "In" }],
            },
            NodeSelector = new V1LabelSelector { MatchExpressions = [new() { Key = "", OperatorProperty = "Exists" }] },
        };
        var image = new PrePullImageSpec
        {
            Image = "nginx",
            Nodes = new NodeTargets { Selector = new V1LabelSelector { MatchExpressions = [new() { Key = "pool", OperatorProperty = "Equals", Values = ["a"] }] } },
        };

        Assert.Equal(
            [
                "spec.selector.matchExpressions[1].values: In needs at least one value",
                "spec.nodeSelector.matchExpressions[0].key: a label key is required",
            ],
            policy.Validate());
        Assert.Equal(["spec.nodes.selector.matchExpressions[0].operator: \"Equals\" is not In, NotIn, Exists or DoesNotExist"], image.Validate());
    }

    [Fact]
    public void Without_a_node_selector_every_node_is_eligible()
    {
        Assert.True(new PrePullPolicySpec().SelectsNode(null));
    }

    [Theory]
    [InlineData(null, null, "node-a", "general", true)]
    [InlineData(new[] { "node-a", "node-b" }, null, "node-b", "gpu", true)]
    [InlineData(new[] { "node-a" }, null, "node-c", "general", false)]
    [InlineData(null, "general", "node-c", "general", true)]
    [InlineData(null, "general", "node-c", "gpu", false)]
    [InlineData(new[] { "node-a" }, "general", "node-a", "gpu", false)]
    [InlineData(new[] { "node-a" }, "general", "node-a", "general", true)]
    public void Node_names_and_selector_both_have_to_hold(string[]? names, string? pool, string node, string nodePool, bool targeted)
    {
        var spec = new PrePullImageSpec
        {
            Image = "nginx",
            Nodes = names is null && pool is null
                ? null
                : new NodeTargets
                {
                    Names = names,
                    Selector = pool is null ? null : new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["pool"] = pool } },
                },
        };

        Assert.Equal(targeted, spec.TargetsNode(node, new Dictionary<string, string> { ["pool"] = nodePool }));
    }

    [Fact]
    public void Manual_image_sample_targets_linux_nodes()
    {
        var spec = Samples.ToTyped<PrePullImage>(Samples.Read(Samples.ManualImage)).Spec;

        Assert.True(spec.TargetsNode("node-a", new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" }));
        Assert.False(spec.TargetsNode("node-w", new Dictionary<string, string> { ["kubernetes.io/os"] = "windows" }));
        Assert.Empty(spec.Validate());
    }
}
