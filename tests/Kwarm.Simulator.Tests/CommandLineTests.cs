using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Flags_set_options()
    {
        var parsed = CommandLine.Parse(["--nodes", "50", "--kubeconfig-out=sim.kubeconfig", "--time-factor", "0.5", "--port", "6443", "--cert-manager"]);
        Assert.Null(parsed.Error);
        Assert.True(parsed.Options.CertManager);
        Assert.False(CommandLine.Parse([]).Options.CertManager);
        Assert.Equal(50, parsed.Options.Nodes);
        Assert.Equal("sim.kubeconfig", parsed.Options.KubeconfigPath);
        Assert.Equal(0.5, parsed.Options.TimeFactor);
        Assert.Equal(6443, parsed.Options.Port);
    }

    [Theory]
    [InlineData("--nodes", "many")]
    [InlineData("--time-factor", "-1")]
    [InlineData("--port", "70000")]
    [InlineData("--bogus", "1")]
    public void Bad_flags_are_clear_errors(string flag, string value) =>
        Assert.NotNull(CommandLine.Parse([flag, value]).Error);

    [Theory]
    [InlineData("kwarm-system/kwarm-webhook=127.0.0.1:9443", "127.0.0.1:9443")]
    [InlineData("kwarm-system/kwarm-webhook=https://127.0.0.1:9443", "127.0.0.1:9443")]
    [InlineData("kwarm-system/kwarm-webhook=https://localhost:9443/", "127.0.0.1:9443")]
    [InlineData("kwarm-system/kwarm-webhook=[::1]:9443", "[::1]:9443")]
    public void Webhook_services_map_to_local_endpoints(string value, string endpoint)
    {
        var parsed = CommandLine.Parse(["--webhook-service-endpoint", value, "--webhook-service-endpoint=other/svc=127.0.0.1:8443"]);

        Assert.Null(parsed.Error);
        Assert.Equal(endpoint, parsed.Options.WebhookServices["kwarm-system/kwarm-webhook"].ToString());
        Assert.Equal("127.0.0.1:8443", parsed.Options.WebhookServices["other/svc"].ToString());
    }

    [Theory]
    [InlineData("kwarm-webhook=127.0.0.1:9443")]
    [InlineData("kwarm-system/kwarm-webhook=10.0.0.5:9443")]
    [InlineData("kwarm-system/kwarm-webhook=127.0.0.1")]
    [InlineData("kwarm-system/=127.0.0.1:9443")]
    public void Webhook_service_endpoints_must_be_whole_and_local(string value)
    {
        var error = CommandLine.Parse(["--webhook-service-endpoint", value]).Error;

        Assert.Equal($"invalid value \"{value}\" for --webhook-service-endpoint: expected NAMESPACE/NAME=127.0.0.1:PORT (a loopback address)", error);
    }

    /// <summary>A scenario's nodes named like the default ones (or like another group's) stop the start with a message saying how to fix it.</summary>
    [Theory]
    [InlineData("""{ "nodeGroups": [ { "count": 2 } ] }""", 3,
        "node group 1 (namePrefix \"node\") would create node node-0001, which the 3 default nodes (--nodes 3, named node-0001 to node-0003) already creates: give the group another namePrefix, or start with --nodes 0")]
    [InlineData("""{ "nodeGroups": [ { "count": 2, "namePrefix": "arm" }, { "count": 1, "namePrefix": "arm" } ] }""", 0,
        "node group 2 (namePrefix \"arm\") would create node arm-0001, which node group 1 (namePrefix \"arm\") already creates: give each group its own namePrefix")]
    public async Task Scenario_node_names_that_collide_are_refused_before_the_cluster_starts(string scenario, int defaultNodes, string problem)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kwarm-scenario-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, scenario, TestContext.Current.CancellationToken);
        try
        {
            var error = await Assert.ThrowsAsync<InvalidDataException>(() => SimulatedCluster.StartAsync(
                new SimulatorOptions { Nodes = defaultNodes, ScenarioPath = path }, TestContext.Current.CancellationToken));

            Assert.Equal($"scenario {path}: {problem}", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Invalid_options_are_refused_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => SimulatedCluster.StartAsync(new SimulatorOptions { TimeFactor = 0, Nodes = -1 }, TestContext.Current.CancellationToken));
        Assert.Contains("TimeFactor must be a positive number", error.Message);
        Assert.Contains("Nodes must not be negative", error.Message);
    }

    [Fact]
    public void The_nodes_command_takes_a_kubeconfig_and_node_flags()
    {
        var parsed = CommandLine.Parse(["nodes", "--kubeconfig", "admin.kubeconfig", "--nodes=5", "--name-prefix", "edge", "--time-factor", "0.1", "--no-leases", "--delete-nodes-on-exit"]);
        Assert.Null(parsed.Error);
        var attach = Assert.IsType<Attached.AttachOptions>(parsed.Attach);
        Assert.Equal("admin.kubeconfig", attach.KubeconfigPath);
        Assert.Equal(5, attach.Nodes);
        Assert.Equal("edge", attach.NamePrefix);
        Assert.False(attach.NodeLeases);
        Assert.Equal(0.1, attach.Simulation.TimeFactor);
        Assert.True(parsed.DeleteNodesOnExit);
        Assert.Null(CommandLine.Parse(["--nodes", "2"]).Attach);
    }

    [Theory]
    [InlineData("nodes: --kubeconfig PATH is required", "nodes", "--nodes", "2")]
    [InlineData("nodes: invalid value \"lots\" for --nodes", "nodes", "--kubeconfig", "k", "--nodes", "lots")]
    [InlineData("nodes: unknown flag --port", "nodes", "--kubeconfig", "k", "--port", "1")]
    [InlineData("nodes: flag --no-leases takes no value", "nodes", "--kubeconfig", "k", "--no-leases=yes")]
    [InlineData("nodes: flag --kubeconfig needs a value", "nodes", "--kubeconfig")]
    [InlineData("unexpected argument \"node\"", "node", "--kubeconfig", "k")]
    public void Bad_nodes_flags_are_one_clear_error(string error, params string[] args) =>
        Assert.Equal(error, CommandLine.Parse(args).Error);

    [Fact]
    public void Usage_documents_the_nodes_command() =>
        Assert.Contains("nodes --kubeconfig PATH [--nodes N]", CommandLine.Usage, StringComparison.Ordinal);
}
