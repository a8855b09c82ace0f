using k8s;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// <see cref="NodeWarmingScenarios"/> on the simulator (one default node besides the test's own, time 100 times
/// faster), plus what only the simulator can show: who registers a node, and a registration a webhook refuses.
/// </summary>
public sealed class NodeWarmingTests : NodeWarmingScenarios
{
    private TestCluster? _cluster;
    private Kubernetes? _client;

    private TestCluster Cluster => _cluster ?? throw new InvalidOperationException("the simulator did not start");

    /// <summary>Each test has a simulator of its own: its names need not differ from another test's.</summary>
    protected override string Unique(string name) => name;

    protected override IReadOnlyCollection<string> BackgroundErrors => Cluster.Cluster.ControllerErrors;

    protected override TimeSpan Patience => TimeSpan.FromSeconds(20);

    protected override async Task<IKubernetes> StartClusterAsync()
    {
        _cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01 });
        _client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_cluster.Cluster.KubeconfigPath));
        return _client;
    }

    protected override Task JoinAsync(NodeSpec node) => Cluster.Cluster.AddNodesAsync([node], Token);

    protected override async ValueTask StopClusterAsync()
    {
        _client?.Dispose();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_webhook_sees_the_kubelet_register_its_node_as_the_node_s_own_user()
    {
        await using var webhook = await TestWebhook.StartAsync("127.0.0.1");
        webhook.Responder = AddWarmingTaint;
        await RegisterNodeWebhookAsync(webhook, "Ignore");

        Cluster.Cluster.AddNodes([OwnNode("joiner")]);
        var review = Assert.Single(webhook.Reviews, r => r["request"]?["name"]?.GetValue<string>() == "joiner" && r["request"]?["dryRun"]?.GetValue<bool>() == false);
        Assert.Equal("system:node:joiner", review["request"]!["userInfo"]!["username"]!.GetValue<string>());
        Assert.Equal(["system:nodes", "system:authenticated"], review["request"]!["userInfo"]!["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        FixtureFidelityTests.AssertJsonEqual(System.Text.Json.Nodes.JsonNode.Parse("""{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}"""), review["request"]!["options"]);
    }

    [Fact]
    public async Task With_failurePolicy_Fail_a_node_whose_webhook_is_down_is_not_registered()
    {
        var webhook = await TestWebhook.StartAsync("127.0.0.1");
        await RegisterNodeWebhookAsync(webhook, "Fail");
        await webhook.DisposeAsync();

        var refused = await Assert.ThrowsAsync<ApiException>(() => JoinAsync(OwnNode("refused")));
        Assert.Equal(500, refused.Code);
        Assert.StartsWith("Internal error occurred: failed calling webhook \"nodes.warming.kwarm.io\": failed to call webhook: Post \"https://127.0.0.1:", refused.Message, StringComparison.Ordinal);
        Assert.Null(Cluster.Get("", "nodes", "", "refused"));
    }
}
