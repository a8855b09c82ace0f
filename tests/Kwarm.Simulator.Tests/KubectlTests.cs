using System.Text.Json.Nodes;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// <see cref="KubectlScenarios"/> on the simulator (three nodes, time 100 times faster), plus what only the simulator
/// does: its kubelets answer for container logs, and it refuses an imperative create it cannot decode.
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

    /// <summary>The simulator serves v1.32's server-side field validation.</summary>
    protected override string UnknownFieldRefusal => "strict decoding error: unknown field \"spec.imagePullSecret\"";

    /// <summary>
    /// A pod's logs come from its node's kubelet (the API server forwards <c>pods/log</c> to the node's kubelet
    /// endpoint, and the kubelet refuses a container that never started). The simulator answers for its kubelets;
    /// simulated nodes attached to a real API server serve no kubelet endpoint, so this stays on the simulator.
    /// </summary>
    [Fact]
    public async Task Logs_are_empty_for_started_containers_and_refused_for_waiting_ones()
    {
        Registry.MarkMissing("registry.local/shop/web:typo");
        await Ok("apply", "-f", Write("deployment.yaml", DeploymentYaml));
        await Ok("rollout", "status", "deployment/web", "-n", Shop, "--timeout=60s");
        Assert.Equal("", await Ok("logs", "deployment/web", "-n", Shop));

        await Ok("set", "image", "deployment/web", "-n", Shop, "web=registry.local/shop/web:typo");
        string? stuck = null;
        await Eventually(async () =>
        {
            var pods = JsonNode.Parse(await Ok("get", "pods", "-n", Shop, "-o", "json"))!["items"]!.AsArray();
            stuck = pods.FirstOrDefault(p => p!["spec"]!["containers"]![0]!["image"]!.GetValue<string>().EndsWith(":typo", StringComparison.Ordinal)
                && p["status"]?["containerStatuses"]?[0]?["state"]?["waiting"]?["reason"]?.GetValue<string>() is "ErrImagePull" or "ImagePullBackOff")?["metadata"]!["name"]!.GetValue<string>();
            return stuck is not null;
        });
        var refused = await Run("logs", stuck!, "-n", Shop);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"container \"web\" in pod \"{stuck}\" is waiting to start: trying and failing to pull image", refused.Error);
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
