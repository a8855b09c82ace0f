using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Local;

/// <summary>
/// The guided run without a cluster: a simulated cluster of <see cref="DemoSettings.Nodes"/> nodes, Kwarm installed
/// from the repository's manifests and running as its own process, the basic policy and the example Deployment, then
/// an image change followed from hold to pre-pull to release to finished rollout. It observes by reading the API, as a
/// person with kubectl would; it never tells Kwarm anything.
/// </summary>
public sealed class HoldDemo(DemoSettings settings, TextWriter output)
{
    private const string Namespace = "default";
    private const string DeploymentName = "web";
    private const string OldImage = "docker.io/library/nginx:1.27.0";
    private const string NewImage = "docker.io/library/nginx:1.27.1";

    // Sizes chosen so a pull takes seconds on the simulator's 100 MB/s nodes: long enough to watch, short enough to wait for.
    private const long OldImageBytes = 70L * 1024 * 1024;
    private const long NewImageBytes = 300L * 1024 * 1024;

    private readonly Timeline _timeline = new(output);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("kwarm-demo-").FullName;
        output.WriteLine("No cluster is configured (--kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config), so Kwarm runs against its built-in");
        output.WriteLine($"cluster simulator: {settings.Nodes} nodes, a Deployment whose image changes, and the rollout held until every node is warm.");
        output.WriteLine();
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(settings.Timeout);
            return await RunScenarioAsync(work, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _timeline.Say($"gave up after {Timeline.Seconds(settings.Timeout)}: the step above did not finish (Kwarm's log: {Path.Combine(work, "kwarm.log")})");
            return 1;
        }
    }

    private async Task<int> RunScenarioAsync(string work, CancellationToken cancellationToken)
    {
        await using var cluster = await SimulatedCluster.StartAsync(
            new SimulatorOptions { Nodes = settings.Nodes, KubeconfigPath = Path.Combine(work, "demo.kubeconfig") }, cancellationToken).ConfigureAwait(false);
        cluster.Registry.Add(new RegistryImage(OldImage, OldImageBytes));
        cluster.Registry.Add(new RegistryImage(NewImage, NewImageBytes));
        _timeline.Say($"simulated cluster up: {settings.Nodes} nodes at {cluster.ServerUri} (kubectl --kubeconfig {cluster.KubeconfigPath})");

        using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));
        await using var kwarm = await SimulatedKwarmInstall.InstallAsync(cluster, client, settings.Kwarm, work, cluster.KubeconfigPath, cancellationToken).ConfigureAwait(false);
        _timeline.Say($"Kwarm running (pid {kwarm.ProcessId}, log {kwarm.LogPath}); CRDs and webhook installed from deploy/");

        var policy = SimulatedKwarmInstall.Manifest<PrePullPolicy>("prepullpolicy-basic.yaml");
        await client.CustomObjects.CreateClusterCustomObjectAsync(policy, KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, cancellationToken: cancellationToken).ConfigureAwait(false);
        await client.AppsV1.CreateNamespacedDeploymentAsync(SimulatedKwarmInstall.Manifest<V1Deployment>("deployment-example.yaml"), Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        _timeline.Say($"applied PrePullPolicy \"{policy.Metadata.Name}\" and Deployment \"{DeploymentName}\" ({OldImage})");
        await WaitForRolloutAsync(client, OldImage, cancellationToken).ConfigureAwait(false);
        _timeline.Say("first rollout complete: every replica available");
        await WaitUntilKwarmSelectsAsync(client, cancellationToken).ConfigureAwait(false);

        var changedAt = _timeline.Now;
        await client.AppsV1.PatchNamespacedDeploymentAsync(ImagePatch(NewImage), DeploymentName, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        _timeline.Say($"image changed to {NewImage} (what `kubectl set image deployment/web web={NewImage}` does)");
        return await FollowHoldAsync(cluster, client, changedAt, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> FollowHoldAsync(SimulatedCluster cluster, k8s.Kubernetes client, TimeSpan changedAt, CancellationToken cancellationToken)
    {
        string? holdId = null;
        var lastProgress = "";
        TimeSpan? releasedAt = null;
        var lastPullDoneAt = TimeSpan.Zero;
        var pullsAtRelease = 0;
        while (true)
        {
            var deployment = await client.AppsV1.ReadNamespacedDeploymentAsync(DeploymentName, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            var annotations = deployment.Metadata.Annotations ?? new Dictionary<string, string>();
            if (holdId is null && deployment.Spec.Paused == true && annotations.TryGetValue(KwarmApi.HoldAnnotation, out var id))
            {
                holdId = id;
                var sets = await client.AppsV1.ListNamespacedReplicaSetAsync(Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                _timeline.Say($"held: spec.paused=true, kwarm.io/hold={id}; {sets.Items.Count} ReplicaSet(s), none for the new image, old pods keep serving");
            }
            else if (holdId is null && releasedAt is null)
            {
                if (_timeline.Now - changedAt > TimeSpan.FromSeconds(10))
                {
                    _timeline.Say("the image change was not held: is the webhook reachable? (see Kwarm's log)");
                    return 1;
                }
            }

            if (holdId is not null && releasedAt is null)
            {
                var progress = await PullProgressAsync(client, holdId, cancellationToken).ConfigureAwait(false);
                if (progress != lastProgress && progress.Length > 0)
                {
                    _timeline.Say(progress);
                    lastProgress = progress;
                    lastPullDoneAt = _timeline.Now;
                }

                if (annotations.TryGetValue(KwarmApi.ReleasedAnnotation, out var released) && released == holdId && deployment.Spec.Paused != true)
                {
                    releasedAt = _timeline.Now;
                    pullsAtRelease = await TotalPullsAsync(cluster, client, cancellationToken).ConfigureAwait(false);
                    _timeline.Say($"released: kwarm.io/released={released}, spec.paused=false, {Timeline.Seconds(releasedAt.Value - changedAt)} after the change " +
                        $"(≤ {Timeline.Seconds(releasedAt.Value - lastPullDoneAt)} after the last pull was seen)");
                }
            }

            if (releasedAt is { } release && RolloutComplete(deployment, NewImage))
            {
                var pulledByPods = await TotalPullsAsync(cluster, client, cancellationToken).ConfigureAwait(false) - pullsAtRelease;
                _timeline.Say($"rollout complete: {deployment.Status.UpdatedReplicas}/{deployment.Spec.Replicas} replicas on {NewImage}, " +
                    $"{Timeline.Seconds(_timeline.Now - release)} after the release; image pulls by the new pods: {pulledByPods}");
                output.WriteLine();
                output.WriteLine($"Held {Timeline.Seconds(release - changedAt)} while {settings.Nodes} nodes pre-pulled; the new pods started on warm nodes.");
                return pulledByPods == 0 ? 0 : 1;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>"pulling n/total nodes" over the hold's PrePullImages, from their status summaries.</summary>
    private static async Task<string> PullProgressAsync(k8s.Kubernetes client, string holdId, CancellationToken cancellationToken)
    {
        var list = await client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>(
            KwarmApi.Group, KwarmApi.Version, Namespace, PrePullImage.KubePluralName,
            labelSelector: $"{KwarmApi.HoldLabel}={holdId}", cancellationToken: cancellationToken).ConfigureAwait(false);
        var items = list["items"]?.AsArray() ?? [];
        if (items.Count == 0)
        {
            return "";
        }

        int total = 0, done = 0, failed = 0;
        foreach (var item in items)
        {
            var summary = item?["status"]?["summary"];
            total += summary?["total"]?.GetValue<int>() ?? 0;
            done += (summary?["completed"]?.GetValue<int>() ?? 0) + (summary?["skipped"]?.GetValue<int>() ?? 0);
            failed += summary?["failed"]?.GetValue<int>() ?? 0;
        }

        var noun = items.Count == 1 ? "PrePullImage" : "PrePullImages";
        return total == 0
            ? $"pre-pull started: {items.Count} {noun}"
            : $"pulling: {done}/{total} nodes warm" + (failed > 0 ? $", {failed} failed" : "");
    }

    private static async Task WaitForRolloutAsync(k8s.Kubernetes client, string image, CancellationToken cancellationToken)
    {
        while (!RolloutComplete(await client.AppsV1.ReadNamespacedDeploymentAsync(DeploymentName, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false), image))
        {
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Kwarm decides from its informer cache, so the policy applied a moment ago may not have reached it yet. A server-side
    /// dry run passes through the webhook without changing anything: once it comes back held, Kwarm sees the policy.
    /// </summary>
    private static async Task WaitUntilKwarmSelectsAsync(k8s.Kubernetes client, CancellationToken cancellationToken)
    {
        while (true)
        {
            var answer = await client.AppsV1.PatchNamespacedDeploymentAsync(
                ImagePatch(NewImage), DeploymentName, Namespace, dryRun: "All", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (answer.Spec.Paused == true)
            {
                return;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool RolloutComplete(V1Deployment deployment, string image) =>
        deployment.Spec.Template.Spec.Containers[0].Image == image
        && deployment.Spec.Paused != true
        && deployment.Status?.ObservedGeneration >= deployment.Metadata.Generation
        && deployment.Status.UpdatedReplicas == deployment.Spec.Replicas
        && deployment.Status.AvailableReplicas == deployment.Spec.Replicas
        && (deployment.Status.Replicas ?? 0) == deployment.Spec.Replicas;

    /// <summary>Image pulls the simulated kubelets have made so far, on every node.</summary>
    private static async Task<int> TotalPullsAsync(SimulatedCluster cluster, k8s.Kubernetes client, CancellationToken cancellationToken)
    {
        var nodes = await client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return nodes.Items.Sum(node => cluster.PullCount(node.Metadata.Name));
    }

    private static V1Patch ImagePatch(string image)
    {
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "web", ["image"] = image }) },
                },
            },
        };
        return new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch);
    }
}
