using k8s;
using k8s.Models;
using Kwarm.Local;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Benchmarks;

/// <summary>
/// A fresh simulated cluster, optionally with Kwarm installed the way the README's guided run installs it: the CRDs
/// and the webhook configuration from <c>deploy/</c>, Kwarm as its own process (<see cref="KwarmProcess"/>) behind
/// the webhook Service, and the basic sample policy.
/// </summary>
internal sealed class BenchmarkCluster : IAsyncDisposable
{
    private BenchmarkCluster(SimulatedCluster cluster, k8s.Kubernetes client, RolloutRecorder recorder)
    {
        Simulator = cluster;
        Client = client;
        Recorder = recorder;
    }

    public SimulatedCluster Simulator { get; }

    public k8s.Kubernetes Client { get; }

    public RolloutRecorder Recorder { get; }

    public KwarmProcess? Kwarm { get; private set; }

    public static Task<BenchmarkCluster> StartAsync(SimulatorOptions options, string workDirectory, bool withKwarm, CancellationToken cancellationToken) =>
        StartAsync(options, workDirectory, withKwarm ? SimulatedKwarmInstall.Manifest<PrePullPolicy>("prepullpolicy-basic.yaml") : null, KwarmCommand.Built, cancellationToken);

    /// <summary>
    /// Starts the cluster; with a <paramref name="policy"/>, installs Kwarm (started as <paramref name="kwarm"/>, e.g. with
    /// extra flags) and applies that policy in place of the basic sample.
    /// </summary>
    public static async Task<BenchmarkCluster> StartAsync(SimulatorOptions options, string workDirectory, PrePullPolicy? policy, KwarmCommand kwarm, CancellationToken cancellationToken)
    {
        var simulator = await SimulatedCluster.StartAsync(options, cancellationToken).ConfigureAwait(false);
        var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(simulator.KubeconfigPath));
        var cluster = new BenchmarkCluster(simulator, client, new RolloutRecorder(simulator, BenchmarkDeployment.Namespace, BenchmarkDeployment.Name));
        try
        {
            if (policy is not null)
            {
                await cluster.InstallKwarmAsync(workDirectory, policy, kwarm, cancellationToken).ConfigureAwait(false);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task InstallKwarmAsync(string workDirectory, PrePullPolicy policy, KwarmCommand kwarm, CancellationToken cancellationToken)
    {
        Kwarm = await SimulatedKwarmInstall.InstallAsync(Simulator, Client, kwarm, workDirectory, Simulator.KubeconfigPath, cancellationToken).ConfigureAwait(false);
        await Client.CustomObjects.CreateClusterCustomObjectAsync(policy, KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the Deployment and waits until its first rollout is complete.</summary>
    public async Task DeployAsync(int replicas, string image, TimeSpan within, CancellationToken cancellationToken)
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(BenchmarkDeployment.Create(replicas, image), BenchmarkDeployment.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        await WaitUntilAsync(() => BenchmarkDeployment.RolloutComplete(Recorder.Latest, image), $"the first rollout of {image}", within, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Kwarm decides from its informer cache, so a policy applied a moment ago may not have reached it yet. A server-side
    /// dry run of the image change passes through the webhook and changes nothing: once it comes back paused, Kwarm holds.
    /// </summary>
    public async Task WaitUntilKwarmHoldsAsync(string image, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var answer = await Client.AppsV1.PatchNamespacedDeploymentAsync(
                BenchmarkDeployment.ImagePatch(image), BenchmarkDeployment.Name, BenchmarkDeployment.Namespace, dryRun: "All", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (answer.Spec.Paused == true)
            {
                return;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"Kwarm did not hold a dry-run image change within 60 s; see {Kwarm?.LogPath}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Polls in-memory state (no API reads) every 10 ms until <paramref name="condition"/> holds.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan within, CancellationToken cancellationToken) =>
        Polling.UntilAsync(condition, what, within, TimeSpan.FromMilliseconds(10), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Kwarm is not null)
        {
            await Kwarm.DisposeAsync().ConfigureAwait(false);
        }

        Client.Dispose();
        await Simulator.DisposeAsync().ConfigureAwait(false);
    }
}
