using System.Text.Json.Nodes;
using Kwarm.Hosting;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// Kwarm's own node tainting (issue #17) is off unless asked for: the default installs send no Node to the webhook and
/// pass no <c>--taint-new-nodes</c>; the chart value <c>flags.taintNewNodes</c> and the kustomize overlay
/// <c>deploy/kustomize/taint-new-nodes</c> add both, the same way, and nothing else. The chart is rendered by the tests'
/// renderer and by Helm itself.
/// </summary>
[Trait("Lane", "Packaging")]
public sealed class TaintNewNodesInstallTests
{
    private const string Flag = "taint-new-nodes";

    private static readonly JsonObject Enabled = new() { ["flags"] = new JsonObject { ["taintNewNodes"] = true } };

    private static JsonObject Container(IReadOnlyList<JsonObject> objects) =>
        objects.Single("Deployment", "kwarm")["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();

    private static List<string> Args(IReadOnlyList<JsonObject> objects) => Container(objects)["args"]!.AsArray().Select(arg => Manifests.Str(arg)!).ToList();

    private static List<JsonObject> Webhooks(IReadOnlyList<JsonObject> objects) =>
        objects.Single("MutatingWebhookConfiguration", "kwarm")["webhooks"]!.AsArray().Select(webhook => webhook!.AsObject()).ToList();

    private static void AssertOff(IReadOnlyList<JsonObject> objects)
    {
        Assert.Equal(WebhookShape.Entries.Select(entry => entry.Name), Webhooks(objects).Select(webhook => Manifests.Str(webhook["name"])));
        Assert.DoesNotContain(Args(objects), arg => arg.StartsWith("--" + Flag, StringComparison.Ordinal));
    }

    /// <summary>The three workload entries as before, the nodes entry after them, and the flag the operator reads as true.</summary>
    private static void AssertOn(IReadOnlyList<JsonObject> objects)
    {
        var webhooks = Webhooks(objects);
        Assert.Equal([.. WebhookShape.Entries.Select(entry => entry.Name), WebhookShape.NodeEntryName], webhooks.Select(webhook => Manifests.Str(webhook["name"])));
        WebhookShape.AssertEntriesAgree(webhooks[..^1]);
        WebhookShape.AssertNodeEntry(webhooks[^1], webhooks[0]);

        var options = new KwarmOptions();
        Assert.True(KwarmFlags.Find(Flag)!.TryApply(DeploymentShape.Flag(Container(objects), Flag), options));
        Assert.True(options.TaintNewNodes);
    }

    [Fact]
    public async Task Default_installs_send_no_node_to_the_webhook_and_do_not_taint()
    {
        AssertOff(Manifests.RenderChart());
        AssertOff(await HelmTemplate.RenderChartAsync());
        AssertOff(await Manifests.KustomizeDefaultAsync());
    }

    [Fact]
    public async Task The_chart_value_adds_the_nodes_entry_and_the_flag()
    {
        AssertOn(Manifests.RenderChart(Enabled));
        AssertOn(await HelmTemplate.RenderChartAsync(Enabled));
    }

    /// <summary>Helm itself and the tests' renderer agree on everything the value changes.</summary>
    [Fact]
    public async Task Helm_renders_the_value_as_the_test_renderer_does()
    {
        var helm = await HelmTemplate.RenderChartAsync(Enabled);
        var renderer = Manifests.RenderChart(Enabled);

        Assert.True(Manifests.SameTree(renderer.Single("MutatingWebhookConfiguration", "kwarm")["webhooks"], helm.Single("MutatingWebhookConfiguration", "kwarm")["webhooks"]));
        Assert.Equal(Args(renderer), Args(helm));
        Assert.True(Manifests.SameTree(renderer.Single("ClusterRole", "kwarm")["rules"], helm.Single("ClusterRole", "kwarm")["rules"]));
    }

    [Fact]
    public async Task Helm_refuses_a_value_that_is_not_a_boolean()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => HelmTemplate.RenderChartAsync(new JsonObject { ["flags"] = new JsonObject { ["taintNewNodes"] = "yes" } }));

        Assert.Contains("taintNewNodes", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A node must register while Kwarm is down, so the nodes entry keeps Ignore when the workloads' entries are set to
    /// Fail; it follows their timeout, and their CA when cert-manager is not used.
    /// </summary>
    [Fact]
    public void The_nodes_entry_stays_Ignore_and_follows_the_other_webhook_values()
    {
        var chart = Manifests.RenderChart(new JsonObject
        {
            ["flags"] = new JsonObject { ["taintNewNodes"] = true },
            ["webhook"] = new JsonObject { ["failurePolicy"] = "Fail", ["timeoutSeconds"] = 10, ["caBundle"] = "LS0tLS1CRUdJTi==" },
            ["certManager"] = new JsonObject { ["enabled"] = false },
        }, releaseNamespace: "ops");

        var webhooks = Webhooks(chart);
        Assert.Equal("Fail", Manifests.Str(webhooks[0]["failurePolicy"]));
        WebhookShape.AssertNodeEntry(webhooks[^1], webhooks[0]);
        Assert.Equal(10, webhooks[^1]["timeoutSeconds"]!.GetValue<int>());
        Assert.Equal("LS0tLS1CRUdJTi==", Manifests.Str(webhooks[^1]["clientConfig"]!["caBundle"]));
        Assert.Equal("ops", Manifests.Str(webhooks[^1]["clientConfig"]!["service"]!["namespace"]));
    }

    /// <summary>
    /// The overlay is the default install plus exactly the two additions: every other object unchanged, the webhook
    /// configuration with the chart's nodes entry appended, the Deployment with the flag appended to its arguments.
    /// </summary>
    [Fact]
    public async Task Kustomize_overlay_adds_what_the_chart_value_adds_and_nothing_else()
    {
        var plain = await Manifests.KustomizeDefaultAsync();
        var tainting = await Manifests.KustomizeTaintNewNodesAsync();

        AssertOn(tainting);
        Assert.Equal(plain.Select(Manifests.Identity).Order(StringComparer.Ordinal), tainting.Select(Manifests.Identity).Order(StringComparer.Ordinal));
        foreach (var item in plain.Where(item => Manifests.Kind(item) is not ("MutatingWebhookConfiguration" or "Deployment")))
        {
            Assert.True(Manifests.SameTree(item, tainting.Single(Manifests.Kind(item), Manifests.Name(item))), $"{Manifests.Identity(item)} differs");
        }

        var plainWebhooks = Webhooks(plain);
        var tainted = Webhooks(tainting);
        Assert.Equal(plainWebhooks.Count + 1, tainted.Count);
        foreach (var (before, after) in plainWebhooks.Zip(tainted))
        {
            Assert.True(Manifests.SameTree(before, after), $"the overlay changes the entry {Manifests.Str(before["name"])}");
        }

        Assert.True(Manifests.SameTree(Webhooks(Manifests.RenderChart(Enabled))[^1], tainted[^1]), "the overlay's nodes entry differs from the chart's");

        Assert.Equal([.. Args(plain), "--taint-new-nodes=true"], Args(tainting));
        var plainDeployment = plain.Single("Deployment", "kwarm").DeepClone().AsObject();
        var taintingDeployment = tainting.Single("Deployment", "kwarm").DeepClone().AsObject();
        foreach (var deployment in new[] { plainDeployment, taintingDeployment })
        {
            deployment["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject().Remove("args");
        }

        Assert.True(Manifests.SameTree(plainDeployment, taintingDeployment), "the overlay changes the Deployment beyond its arguments");
    }
}
