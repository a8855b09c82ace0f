using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Tests;

public sealed class SelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "front", ["kwarm.io/enabled"] = "true" };

    [Theory]
    [InlineData("", true)]
    [InlineData("app=web", true)]
    [InlineData("app==web,tier=front", true)]
    [InlineData("app!=web", false)]
    [InlineData("app in (api, web)", true)]
    [InlineData("app notin (web)", false)]
    [InlineData("tier,kwarm.io/enabled=true", true)]
    [InlineData("!tier", false)]
    [InlineData("!missing,app in (web),tier notin (back)", true)]
    [InlineData("missing", false)]
    public void String_selectors_match_like_the_api_server(string selector, bool matches) =>
        Assert.Equal(matches, LabelSelector.Parse(selector).Matches(Labels));

    [Theory]
    [InlineData("app in web")]
    [InlineData("a b=c")]
    [InlineData("=x")]
    public void Bad_selectors_are_400(string selector) =>
        Assert.Equal(400, Assert.Throws<ApiException>(() => LabelSelector.Parse(selector)).Code);

    [Fact]
    public void Object_selectors_combine_labels_and_expressions()
    {
        var selector = LabelSelector.FromObject(JsonNode.Parse("""{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["front"]},{"key":"x","operator":"DoesNotExist"}]}"""));
        Assert.True(selector.Matches(Labels));
        Assert.False(LabelSelector.FromObject(null).Matches(Labels));
        Assert.True(LabelSelector.FromObject(new JsonObject()).Matches(Labels));
    }

    [Fact]
    public void Unsupported_field_selector_is_400()
    {
        var pods = new ResourceCatalog().Get("", "pods");
        Assert.Equal(400, Assert.Throws<ApiException>(() => FieldSelector.Parse("spec.schedulerName=x", pods)).Code);
        Assert.Equal(400, Assert.Throws<ApiException>(() => FieldSelector.Parse("spec.nodeName=x", new ResourceCatalog().Get("apps", "deployments"))).Code);
    }
}
