using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;
using Microsoft.Extensions.Logging;

namespace Kwarm.Local;

/// <summary>
/// What the guided run and the playground both start in a work directory: the simulated cluster (its kubeconfig at
/// <see cref="KubeconfigPath"/>), Kwarm installed from the repository's manifests and running as its own process, the
/// basic PrePullPolicy and the example Deployment, first rollout complete and the policy visible to Kwarm's webhook.
/// Disposing stops Kwarm (SIGTERM) and then the cluster; the caller owns the work directory.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string Namespace = "default";
    public const string DeploymentName = "web";
    public const string OldImage = "docker.io/library/nginx:1.27.0";
    public const string NewImage = "docker.io/library/nginx:1.27.1";

    /// <summary>A tag the simulated registry does not have: its pulls fail with containerd's "not found".</summary>
    public const string MissingImage = "docker.io/library/nginx:1.27.9";

    // Sizes chosen so a pull takes seconds on the simulator's 100 MB/s nodes: long enough to watch, short enough to wait for.
    public const long OldImageBytes = 70L * 1024 * 1024;
    public const long NewImageBytes = 300L * 1024 * 1024;

    private LocalCluster(SimulatedCluster cluster, k8s.Kubernetes client, string policyName)
    {
        Cluster = cluster;
        Client = client;
        PolicyName = policyName;
    }

    public SimulatedCluster Cluster { get; }

    public k8s.Kubernetes Client { get; }

    /// <summary>Kwarm's process; null only while starting.</summary>
    public KwarmProcess Kwarm { get; private set; } = null!;

    public string PolicyName { get; }

    public string KubeconfigPath => Cluster.KubeconfigPath;

    /// <summary>
    /// Starts everything; <paramref name="progress"/> hears each step. A failure disposes what was started and throws.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(
        int nodes, KwarmCommand kwarm, string workDirectory, ILoggerFactory logging, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var cluster = await SimulatedCluster.StartAsync(
            new SimulatorOptions { Nodes = nodes, KubeconfigPath = Path.Combine(workDirectory, "kubeconfig"), LoggerFactory = logging },
            cancellationToken).ConfigureAwait(false);
        var policy = SimulatedKwarmInstall.Manifest<PrePullPolicy>("prepullpolicy-basic.yaml");
        var local = new LocalCluster(cluster, new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath)), policy.Metadata.Name);
        try
        {
            cluster.Registry.Add(new RegistryImage(OldImage, OldImageBytes));
            cluster.Registry.Add(new RegistryImage(NewImage, NewImageBytes));
            cluster.Registry.MarkMissing(MissingImage);
            progress($"simulated cluster up: {nodes} nodes at {cluster.ServerUri} (kubectl --kubeconfig {cluster.KubeconfigPath})");

            local.Kwarm = await SimulatedKwarmInstall.InstallAsync(cluster, local.Client, kwarm, workDirectory, cluster.KubeconfigPath, cancellationToken).ConfigureAwait(false);
            progress($"Kwarm running (pid {local.Kwarm.ProcessId}, log {local.Kwarm.LogPath}); CRDs and webhook installed from deploy/");

            await local.Client.CustomObjects.CreateClusterCustomObjectAsync(
                policy, KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, cancellationToken: cancellationToken).ConfigureAwait(false);
            await local.Client.AppsV1.CreateNamespacedDeploymentAsync(
                SimulatedKwarmInstall.Manifest<V1Deployment>("deployment-example.yaml"), Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            progress($"applied PrePullPolicy \"{policy.Metadata.Name}\" and Deployment \"{DeploymentName}\" ({OldImage})");
            await local.WaitForRolloutAsync(OldImage, cancellationToken).ConfigureAwait(false);
            progress("first rollout complete: every replica available");
            await local.WaitUntilKwarmSelectsAsync(cancellationToken).ConfigureAwait(false);
            return local;
        }
        catch
        {
            await local.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<V1Deployment> ReadDeploymentAsync(CancellationToken cancellationToken) =>
        await Client.AppsV1.ReadNamespacedDeploymentAsync(DeploymentName, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task WaitForRolloutAsync(string image, CancellationToken cancellationToken)
    {
        while (!RolloutComplete(await ReadDeploymentAsync(cancellationToken).ConfigureAwait(false), image))
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    public static bool RolloutComplete(V1Deployment deployment, string image)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return deployment.Spec.Template.Spec.Containers[0].Image == image
            && deployment.Spec.Paused != true
            && deployment.Status?.ObservedGeneration >= deployment.Metadata.Generation
            && deployment.Status.UpdatedReplicas == deployment.Spec.Replicas
            && deployment.Status.AvailableReplicas == deployment.Spec.Replicas
            && (deployment.Status.Replicas ?? 0) == deployment.Spec.Replicas;
    }

    /// <summary>Image pulls the simulated kubelets have made so far, on every node.</summary>
    public async Task<int> TotalPullsAsync(CancellationToken cancellationToken)
    {
        var nodes = await Client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return nodes.Items.Sum(node => Cluster.PullCount(node.Metadata.Name));
    }

    /// <summary>The strategic merge patch <c>kubectl set image deployment/web web=IMAGE</c> sends.</summary>
    public static V1Patch ImagePatch(string image)
    {
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = DeploymentName, ["image"] = image }) },
                },
            },
        };
        return new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch);
    }

    public async ValueTask DisposeAsync()
    {
        if (Kwarm is not null)
        {
            await Kwarm.DisposeAsync().ConfigureAwait(false);
        }

        Client.Dispose();
        await Cluster.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Kwarm decides from its informer cache, so the policy applied a moment ago may not have reached it yet. A server-side
    /// dry run passes through the webhook without changing anything: once it comes back held, Kwarm sees the policy.
    /// </summary>
    private async Task WaitUntilKwarmSelectsAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var answer = await Client.AppsV1.PatchNamespacedDeploymentAsync(
                ImagePatch(NewImage), DeploymentName, Namespace, dryRun: "All", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (answer.Spec.Paused == true)
            {
                return;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
