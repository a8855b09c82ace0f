using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// <see cref="KubectlScenarios"/> on the simulator (three nodes, time 100 times faster), plus what only the simulator
/// does: its kubelets answer for container logs, and it refuses the one imperative create it cannot decode.
/// </summary>
public sealed class KubectlTests : KubectlScenarios
{
    private TestCluster? _cluster;

    private TestCluster Cluster => _cluster ?? throw new InvalidOperationException("the simulator did not start");

    /// <summary>Each test has a simulator of its own: its names need not differ from another test's.</summary>
    protected override string Unique(string name) => name;

    protected override async Task<string> StartClusterAsync(string folder)
    {
        _cluster = await TestCluster.StartAsync(new SimulatorOptions
        {
            Nodes = 3,
            TimeFactor = 0.01,
            KubeconfigPath = Path.Combine(folder, "kubeconfig"),
        });
        return _cluster.Cluster.KubeconfigPath;
    }

    protected override async ValueTask StopClusterAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    protected override ImageRegistry Registry => Cluster.Cluster.Registry;

    /// <summary>The simulator allocates ClusterIPs from 10.96.0.0/16, kubeadm's default service CIDR.</summary>
    protected override string ClusterIpPattern => @"10\.96\.\d+\.\d+";

    protected override IReadOnlyCollection<string> BackgroundErrors => Cluster.Cluster.ControllerErrors;

    /// <summary>
    /// The simulated kubelets answer <c>pods/log</c> (empty: the containers print nothing). A real API server asks the
    /// node's kubelet endpoint, which simulated nodes attached to one do not serve, so this stays on the simulator.
    /// </summary>
    [Fact]
    public async Task Logs_of_started_containers_are_empty()
    {
        await Ok("apply", "-f", Write("deployment.yaml", DeploymentYaml));
        await Ok("rollout", "status", "deployment/web", "-n", Shop, "--timeout=60s");
        Assert.Equal("", await Ok("logs", "deployment/web", "-n", Shop));
    }

    /// <summary>
    /// <c>kubectl create deployment</c> sends a protobuf Deployment, which the simulator does not decode: it says to
    /// apply a manifest instead of storing something else. A real API server creates the Deployment.
    /// </summary>
    [Fact]
    public async Task Imperative_create_of_a_deployment_is_refused_with_a_pointer_to_apply()
    {
        var unsupported = await Run("create", "deployment", "x", "-n", Shop, "--image=nginx");
        Assert.NotEqual(0, unsupported.ExitCode);
        Assert.Contains("use kubectl apply -f", unsupported.Error);
    }
}
