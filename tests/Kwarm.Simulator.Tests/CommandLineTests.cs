using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Flags_set_options()
    {
        var parsed = CommandLine.Parse(["--nodes", "50", "--kubeconfig-out=sim.kubeconfig", "--time-factor", "0.5", "--port", "6443"]);
        Assert.Null(parsed.Error);
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

    [Fact]
    public async Task Invalid_options_are_refused_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => SimulatedCluster.StartAsync(new SimulatorOptions { TimeFactor = 0, Nodes = -1 }, TestContext.Current.CancellationToken));
        Assert.Contains("TimeFactor must be a positive number", error.Message);
        Assert.Contains("Nodes must not be negative", error.Message);
    }

    [Theory]
    [InlineData("nginx", "docker.io/library/nginx:latest")]
    [InlineData("nginx:1.25", "docker.io/library/nginx:1.25")]
    [InlineData("bitnami/redis:7", "docker.io/bitnami/redis:7")]
    [InlineData("registry.local:5000/shop/web:1.1", "registry.local:5000/shop/web:1.1")]
    [InlineData("registry.local/proxy@sha256:0000000000000000000000000000000000000000000000000000000000000001", "registry.local/proxy@sha256:0000000000000000000000000000000000000000000000000000000000000001")]
    public void Image_references_normalise_like_containerd(string reference, string normalized) =>
        Assert.Equal(normalized, ImageRegistry.Normalize(reference));
}
