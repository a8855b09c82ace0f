using System.Text.Json.Nodes;
using k8s;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Local;

/// <summary>
/// The guided run without a cluster: a <see cref="LocalCluster"/> of <see cref="LocalSettings.Nodes"/> nodes, then an
/// image change followed from hold to pre-pull to release to finished rollout. It observes by reading the API, as a
/// person with kubectl would; it never tells Kwarm anything. Its work directory is removed at the end, whatever the
/// outcome; when the run fails, the end of Kwarm's log is printed first.
/// </summary>
public sealed class HoldDemo(LocalSettings settings, TextWriter output, ILoggerFactory logging)
{
    private readonly Timeline _timeline = new(output);

    /// <returns>0 when the rollout completed on warm nodes, 1 when a step failed or did not finish in time.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (Ctrl+C, SIGTERM).</exception>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var work = new WorkDirectory("kwarm-demo-");
        output.WriteLine("No cluster is configured (--kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config), so Kwarm runs against its built-in");
        output.WriteLine($"cluster simulator: {settings.Nodes} nodes, a Deployment whose image changes, and the rollout held until every node is warm.");
        output.WriteLine();
        var exitCode = 1;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(settings.Timeout);
            try
            {
                await using var local = await LocalCluster.StartAsync(settings.Nodes, settings.Kwarm, work.Path, logging, _timeline.Say, deadline.Token).ConfigureAwait(false);
                exitCode = await FollowImageChangeAsync(local, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _timeline.Say($"gave up after {Timeline.Seconds(settings.Timeout)}: the step above did not finish");
            }
            catch (Exception failure) when (failure is InvalidOperationException or TimeoutException or HttpRequestException or k8s.Autorest.HttpOperationException)
            {
                _timeline.Say($"failed: {failure.Message}");
            }

            if (exitCode != 0)
            {
                work.PrintLogTail("kwarm.log", output);
            }

            return exitCode;
        }
        finally
        {
            work.Dispose();
        }
    }

    private async Task<int> FollowImageChangeAsync(LocalCluster local, CancellationToken cancellationToken)
    {
        var changedAt = _timeline.Now;
        await local.Client.AppsV1.PatchNamespacedDeploymentAsync(
            LocalCluster.ImagePatch(LocalCluster.NewImage), LocalCluster.DeploymentName, LocalCluster.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        _timeline.Say($"image changed to {LocalCluster.NewImage} (what `kubectl set image deployment/web web={LocalCluster.NewImage}` does)");

        string? holdId = null;
        var lastProgress = "";
        TimeSpan? releasedAt = null;
        var lastPullDoneAt = TimeSpan.Zero;
        var pullsAtRelease = 0;
        while (true)
        {
            var deployment = await local.ReadDeploymentAsync(cancellationToken).ConfigureAwait(false);
            var annotations = deployment.Metadata.Annotations ?? new Dictionary<string, string>();
            if (holdId is null && deployment.Spec.Paused == true && annotations.TryGetValue(KwarmApi.HoldAnnotation, out var id))
            {
                holdId = id;
                var sets = await local.Client.AppsV1.ListNamespacedReplicaSetAsync(LocalCluster.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                _timeline.Say($"held: spec.paused=true, kwarm.io/hold={id}; {sets.Items.Count} ReplicaSet(s), none for the new image, old pods keep serving");
            }
            else if (holdId is null && releasedAt is null && _timeline.Now - changedAt > TimeSpan.FromSeconds(10))
            {
                _timeline.Say("the image change was not held: is the webhook reachable? (see Kwarm's log)");
                return 1;
            }

            if (holdId is not null && releasedAt is null)
            {
                var progress = await PullProgressAsync(local, holdId, cancellationToken).ConfigureAwait(false);
                if (progress != lastProgress && progress.Length > 0)
                {
                    _timeline.Say(progress);
                    lastProgress = progress;
                    lastPullDoneAt = _timeline.Now;
                }

                if (annotations.TryGetValue(KwarmApi.ReleasedAnnotation, out var released) && released == holdId && deployment.Spec.Paused != true)
                {
                    releasedAt = _timeline.Now;
                    pullsAtRelease = await local.TotalPullsAsync(cancellationToken).ConfigureAwait(false);
                    _timeline.Say($"released: kwarm.io/released={released}, spec.paused=false, {Timeline.Seconds(releasedAt.Value - changedAt)} after the change " +
                        $"(≤ {Timeline.Seconds(releasedAt.Value - lastPullDoneAt)} after the last pull was seen)");
                }
            }

            if (releasedAt is { } release && LocalCluster.RolloutComplete(deployment, LocalCluster.NewImage))
            {
                var pulledByPods = await local.TotalPullsAsync(cancellationToken).ConfigureAwait(false) - pullsAtRelease;
                _timeline.Say($"rollout complete: {deployment.Status.UpdatedReplicas}/{deployment.Spec.Replicas} replicas on {LocalCluster.NewImage}, " +
                    $"{Timeline.Seconds(_timeline.Now - release)} after the release; image pulls by the new pods: {pulledByPods}");
                output.WriteLine();
                output.WriteLine($"Held {Timeline.Seconds(release - changedAt)} while {settings.Nodes} nodes pre-pulled; the new pods started on warm nodes.");
                return pulledByPods == 0 ? 0 : 1;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>"pulling n/total nodes" over the hold's PrePullImages, from their status summaries.</summary>
    private static async Task<string> PullProgressAsync(LocalCluster local, string holdId, CancellationToken cancellationToken)
    {
        var list = await local.Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>(
            KwarmApi.Group, KwarmApi.Version, LocalCluster.Namespace, PrePullImage.KubePluralName,
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
}
