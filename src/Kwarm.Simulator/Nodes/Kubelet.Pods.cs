using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;

namespace Kwarm.Simulator.Nodes;

/// <summary>One pod's life on its node: pulls, init containers, containers, readiness, and the exit of run-once pods.</summary>
public sealed partial class Kubelet
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(300);

    private async Task RunPodAsync(JsonObject pod, NodeRuntime node, PodRun run)
    {
        var token = run.Token;
        var ns = pod.Str("metadata", "namespace")!;
        var name = pod.Str("metadata", "name")!;
        var uid = pod.Str("metadata", "uid")!;
        try
        {
            var initContainers = pod.Objects("spec", "initContainers").ToList();
            var containers = pod.Objects("spec", "containers").ToList();
            var credentials = await CredentialHostsAsync(pod, token).ConfigureAwait(false);
            var podIp = ContainerStates.PodIp(uid);
            var start = Now;

            await UpdatePodAsync(ns, name, uid, status =>
            {
                status["phase"] = "Pending";
                status["hostIP"] = "192.0.2.1";
                status["podIP"] = podIp;
                status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp });
                status["startTime"] ??= start;
                PodStatus.SetCondition(status, "Initialized", initContainers.Count == 0 ? "True" : "False", initContainers.Count == 0 ? "" : "ContainersNotInitialized", initContainers.Count == 0 ? "" : $"containers with incomplete status: [{string.Join(" ", initContainers.Select(c => c.Str("name")))}]", start);
                PodStatus.SetCondition(status, "Ready", "False", "ContainersNotReady", $"containers with unready status: [{string.Join(" ", containers.Select(c => c.Str("name")))}]", start);
                PodStatus.SetCondition(status, "ContainersReady", "False", "ContainersNotReady", $"containers with unready status: [{string.Join(" ", containers.Select(c => c.Str("name")))}]", start);
                ContainerStates.CleanConditions(status);
                if (initContainers.Count > 0)
                {
                    status["initContainerStatuses"] = new JsonArray([.. initContainers.Select(c => (JsonNode)ContainerStates.Waiting(c, "PodInitializing", null))]);
                }

                status["containerStatuses"] = new JsonArray([.. containers.Select(c => (JsonNode)ContainerStates.Waiting(c, initContainers.Count > 0 ? "PodInitializing" : "ContainerCreating", null))]);
            }, token).ConfigureAwait(false);

            for (var i = 0; i < initContainers.Count; i++)
            {
                var container = initContainers[i];
                var imageId = await EnsureImageAsync(pod, node, container, "initContainerStatuses", i, credentials, token).ConfigureAwait(false);
                if (imageId is null)
                {
                    return;
                }

                var started = Now;
                await SetContainerAsync(ns, name, uid, "initContainerStatuses", i, ContainerStates.Running(container, imageId, started, ready: false), token).ConfigureAwait(false);
                await Task.Delay(Options.Scaled(Options.CommandRunTime), Time, token).ConfigureAwait(false);
                await SetContainerAsync(ns, name, uid, "initContainerStatuses", i, ContainerStates.Terminated(container, imageId, started, Now), token).ConfigureAwait(false);
            }

            if (initContainers.Count > 0)
            {
                await UpdatePodAsync(ns, name, uid, status =>
                {
                    PodStatus.SetCondition(status, "Initialized", "True", "", "", Now);
                    ContainerStates.CleanConditions(status);
                }, token).ConfigureAwait(false);
            }

            var imageIds = new string[containers.Count];
            for (var i = 0; i < containers.Count; i++)
            {
                var imageId = await EnsureImageAsync(pod, node, containers[i], "containerStatuses", i, credentials, token).ConfigureAwait(false);
                if (imageId is null)
                {
                    return;
                }

                imageIds[i] = imageId;
                await SetContainerAsync(ns, name, uid, "containerStatuses", i, ContainerStates.Running(containers[i], imageId, Now, ready: false), token).ConfigureAwait(false);
                await RecordAsync(pod, "Normal", "Started", $"Started container {containers[i].Str("name")}", node.Name, $"spec.containers{{{containers[i].Str("name")}}}", token).ConfigureAwait(false);
            }

            await UpdatePodAsync(ns, name, uid, status => status["phase"] = "Running", token).ConfigureAwait(false);
            await Task.Delay(Options.Scaled(Options.ContainerStartTime), Time, token).ConfigureAwait(false);
            var readyAt = Now;
            await UpdatePodAsync(ns, name, uid, status =>
            {
                foreach (var entry in status.Objects("containerStatuses"))
                {
                    entry["ready"] = true;
                }

                PodStatus.SetCondition(status, "Ready", "True", "", "", readyAt);
                PodStatus.SetCondition(status, "ContainersReady", "True", "", "", readyAt);
                ContainerStates.CleanConditions(status);
            }, token).ConfigureAwait(false);

            if ((pod.Str("spec", "restartPolicy") ?? "Always") != "Always")
            {
                await Task.Delay(Options.Scaled(Options.CommandRunTime), Time, token).ConfigureAwait(false);
                var finished = Now;
                var exitCodes = containers.Select(c => node.Images.Lookup(c.Str("image") ?? "")?.ExitCode ?? 0).ToArray();
                await UpdatePodAsync(ns, name, uid, status =>
                {
                    var entries = status.Objects("containerStatuses").ToList();
                    for (var i = 0; i < entries.Count && i < containers.Count; i++)
                    {
                        status["containerStatuses"]![i] = ContainerStates.Terminated(containers[i], imageIds[i], entries[i].Str("state", "running", "startedAt") ?? finished, finished, exitCodes[i]);
                    }

                    status["phase"] = exitCodes.All(c => c == 0) ? "Succeeded" : "Failed";
                    PodStatus.SetCondition(status, "Ready", "False", "PodCompleted", "", finished);
                    PodStatus.SetCondition(status, "ContainersReady", "False", "PodCompleted", "", finished);
                    ContainerStates.CleanConditions(status);
                }, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The pod was deleted or the simulator is stopping.
        }
#pragma warning disable CA1031 // A failure in one simulated pod must not take the kubelet down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _settings.ReportError($"{ns}/{name}", e);
        }
        finally
        {
            await ForgetIfGoneAsync(ns, name, uid, run).ConfigureAwait(false);
        }
    }

    /// <summary>A run whose pod is gone (or replaced) is forgotten; one whose pod stays is kept so the pod is not run twice.</summary>
    private async Task ForgetIfGoneAsync(string ns, string name, string uid, PodRun run)
    {
        if (!_runs.TryGetValue(uid, out var current) || current != run || _stopping.IsCancellationRequested)
        {
            return;
        }

        try
        {
            var pod = await _api.GetPodAsync(ns, name, _stopping.Token).ConfigureAwait(false);
            if (pod?.Str("metadata", "uid") != uid)
            {
                _runs.TryRemove(uid, out _);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: nothing to tidy.
        }
#pragma warning disable CA1031 // Tidying is best effort: the watch's delete also forgets the run.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _settings.ReportError($"{ns}/{name}", e);
        }
    }

    /// <summary>Makes the image present (pulling with backoff as needed); returns its imageID, or null if it never will be.</summary>
    private async Task<string?> EnsureImageAsync(JsonObject pod, NodeRuntime node, JsonObject container, string list, int index, IReadOnlySet<string> credentials, CancellationToken token)
    {
        var ns = pod.Str("metadata", "namespace")!;
        var name = pod.Str("metadata", "name")!;
        var uid = pod.Str("metadata", "uid")!;
        var image = container.Str("image") ?? "";
        var policy = container.Str("imagePullPolicy") ?? BuiltInDefaults.PullPolicyFor(image);
        var fieldPath = list == "initContainerStatuses" ? $"spec.initContainers{{{container.Str("name")}}}" : $"spec.containers{{{container.Str("name")}}}";
        if (!ImageRegistry.IsValidReference(image))
        {
            var message = $"Failed to apply default image tag \"{image}\": couldn't parse image reference \"{image}\": invalid reference format";
            await SetContainerAsync(ns, name, uid, list, index, ContainerStates.Waiting(container, "InvalidImageName", message), token).ConfigureAwait(false);
            await RecordAsync(pod, "Warning", "InspectFailed", message, node.Name, fieldPath, token).ConfigureAwait(false);
            return null;
        }

        var cached = node.Images.Lookup(image);
        if (cached is not null && policy != "Always")
        {
            await RecordAsync(pod, "Normal", "Pulled", $"Container image \"{image}\" already present on machine", node.Name, fieldPath, token).ConfigureAwait(false);
            return cached.ImageId;
        }

        if (policy == "Never")
        {
            var message = $"Container image \"{image}\" is not present with pull policy of Never";
            await SetContainerAsync(ns, name, uid, list, index, ContainerStates.Waiting(container, "ErrImageNeverPull", message), token).ConfigureAwait(false);
            return null;
        }

        var backoff = InitialBackoff;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            await RecordAsync(pod, "Normal", "Pulling", $"Pulling image \"{image}\"", node.Name, fieldPath, token).ConfigureAwait(false);
            var began = Time.GetTimestamp();
            var requestedAt = Time.GetUtcNow();
            var (result, startedAt) = await node.PullAsync(image, credentials, _settings.Registry, Options, token).ConfigureAwait(false);
            _pullLog.Enqueue(new ImagePull(node.Name, image, ns, name, uid, requestedAt, startedAt, Time.GetUtcNow(), result.Succeeded, result.Succeeded ? "" : result.Reason));
            if (result.Succeeded)
            {
                var took = Time.GetElapsedTime(began).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                await RecordAsync(pod, "Normal", "Pulled", $"Successfully pulled image \"{image}\" in {took}s. Image size: {result.SizeBytes} bytes.", node.Name, fieldPath, token).ConfigureAwait(false);
                await PublishImagesAsync(node, token).ConfigureAwait(false);
                return result.ImageId;
            }

            await SetContainerAsync(ns, name, uid, list, index, ContainerStates.Waiting(container, result.Reason, result.Message), token).ConfigureAwait(false);
            await RecordAsync(pod, "Warning", "Failed", $"Failed to pull image \"{image}\": {result.Message}", node.Name, fieldPath, token).ConfigureAwait(false);
            await RecordAsync(pod, "Warning", "Failed", $"Error: {result.Reason}", node.Name, fieldPath, token).ConfigureAwait(false);
            await Task.Delay(Options.Scaled(TimeSpan.FromSeconds(1)), Time, token).ConfigureAwait(false);
            await SetContainerAsync(ns, name, uid, list, index, ContainerStates.Waiting(container, "ImagePullBackOff", $"Back-off pulling image \"{image}\""), token).ConfigureAwait(false);
            await RecordAsync(pod, "Normal", "BackOff", $"Back-off pulling image \"{image}\"", node.Name, fieldPath, token).ConfigureAwait(false);
            await Task.Delay(Options.Scaled(backoff), Time, token).ConfigureAwait(false);
            backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        }
    }

    /// <summary>The registry hosts the pod's pull secrets hold credentials for (read through the API, as a kubelet does).</summary>
    private async Task<HashSet<string>> CredentialHostsAsync(JsonObject pod, CancellationToken token)
    {
        var hosts = new HashSet<string>(StringComparer.Ordinal);
        var ns = pod.Str("metadata", "namespace") ?? "";
        foreach (var reference in pod.Objects("spec", "imagePullSecrets"))
        {
            var secret = await _api.GetSecretAsync(ns, reference.Str("name") ?? "", token).ConfigureAwait(false);
            var encoded = secret?.Str("data", ".dockerconfigjson") ?? secret?.Str("data", ".dockercfg");
            if (encoded is null)
            {
                continue;
            }

            try
            {
                var config = JsonNode.Parse(Convert.FromBase64String(encoded));
                var auths = config?["auths"] as JsonObject ?? config as JsonObject;
                foreach (var (server, _) in auths ?? [])
                {
                    var host = server.Replace("https://", "", StringComparison.Ordinal).Replace("http://", "", StringComparison.Ordinal).Split('/')[0];
                    hosts.Add(host is "index.docker.io" or "registry-1.docker.io" ? "docker.io" : host);
                }
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                // A malformed pull secret gives no credentials, as with containerd.
            }
        }

        return hosts;
    }

    private Task RecordAsync(JsonObject pod, string type, string reason, string message, string node, string fieldPath, CancellationToken token) =>
        _settings.Options.RecordEvents
            ? _api.RecordEventAsync(pod, new KubeletEvent(type, reason, message, node, fieldPath), token)
            : Task.CompletedTask;

    private Task SetContainerAsync(string ns, string name, string uid, string list, int index, JsonObject entry, CancellationToken token) =>
        UpdatePodAsync(ns, name, uid, status =>
        {
            var entries = status.Arr(list);
            while (entries.Count <= index)
            {
                entries.Add(new JsonObject());
            }

            entries[index] = entry;
        }, token);

    /// <summary>Changes the pod's status while it is still this pod (same uid) and not being deleted.</summary>
    private Task UpdatePodAsync(string ns, string name, string uid, Action<JsonObject> change, CancellationToken token) =>
        _api.UpdatePodStatusAsync(ns, name, pod =>
        {
            if (pod.Str("metadata", "uid") != uid || pod.Str("metadata", "deletionTimestamp") is not null)
            {
                return false;
            }

            var status = pod.Obj("status");
            var before = status.ToJsonString();
            change(status);
            return before != status.ToJsonString();
        }, token);
}
