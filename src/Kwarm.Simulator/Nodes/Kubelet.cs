using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// The kubelets of every simulated node, in one event-driven loop: node registration and Lease heartbeats, a per-node
/// image cache with pulls serialised per node (time = size / bandwidth, scaled), ErrImagePull/ImagePullBackOff with
/// containerd's messages, pull secrets, init containers before containers, and <c>status.images</c> (≤ 50 entries).
/// </summary>
public sealed class Kubelet : Controller, IDisposable
{
    private const int MaxStatusImages = 50;
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(300);

    private readonly ConcurrentDictionary<string, NodeRuntime> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PodRun> _runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _heartbeat;

    public Kubelet(SimulationContext context)
        : base(context)
    {
    }

    public IReadOnlyCollection<string> NodeNames => [.. _nodes.Keys];

    /// <summary>Every pull finished so far, with when it started and ended.</summary>
    public PullLog CompletedPulls { get; } = new();

    /// <summary>Registers nodes (Node object, Lease) and starts their kubelets.</summary>
    public void AddNodes(IEnumerable<NodeSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        foreach (var spec in specs)
        {
            var runtime = new NodeRuntime(spec, spec.BandwidthBytesPerSecond ?? Context.Options.NodeBandwidthBytesPerSecond);
            foreach (var image in spec.PreloadedImages)
            {
                var pulled = Context.Registry.Resolve(image, spec.Architecture, new HashSet<string>());
                if (pulled.Succeeded)
                {
                    runtime.Remember(image, pulled);
                }
            }

            if (!_nodes.TryAdd(spec.Name, runtime))
            {
                throw new InvalidOperationException($"node {spec.Name} already exists");
            }

            var node = spec.ToNode(Context.Now);
            node["status"]!["images"] = runtime.StatusImages(MaxStatusImages);
            Store.Create(Context.Nodes, node);
            RenewLease(spec.Name);
        }

        _heartbeat ??= Context.Time.CreateTimer(_ => Heartbeat(), null, Context.Options.NodeHeartbeat, Context.Options.NodeHeartbeat);
    }

    /// <summary>Marks a node NotReady (the kubelet stops posting status) or Ready again.</summary>
    public void SetNodeReady(string name, bool ready)
    {
        if (!_nodes.TryGetValue(name, out var runtime))
        {
            throw new InvalidOperationException($"node {name} is not simulated");
        }

        runtime.Ready = ready;
        var now = Context.Now;
        Store.Mutate(Context.Nodes, "", name, node =>
        {
            var status = node.Obj("status");
            var conditions = status.Arr("conditions");
            var index = conditions.OfType<JsonObject>().ToList().FindIndex(c => c.Str("type") == "Ready");
            var condition = ready
                ? NodeSpec.Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", now)
                : NodeSpec.Condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", now);
            if (index >= 0)
            {
                conditions[index] = condition;
            }
            else
            {
                conditions.Add(condition);
            }

            var taints = node.Obj("spec")["taints"] as JsonArray ?? [];
            var kept = taints.OfType<JsonObject>().Where(t => t.Str("key") != "node.kubernetes.io/unreachable").Select(t => (JsonNode)t.DeepClone()).ToList();
            if (!ready)
            {
                kept.Add(new JsonObject { ["key"] = "node.kubernetes.io/unreachable", ["effect"] = "NoSchedule", ["timeAdded"] = now });
                kept.Add(new JsonObject { ["key"] = "node.kubernetes.io/unreachable", ["effect"] = "NoExecute", ["timeAdded"] = now });
            }

            if (kept.Count == 0)
            {
                node.Obj("spec").Remove("taints");
            }
            else
            {
                node.Obj("spec")["taints"] = new JsonArray([.. kept]);
            }

            return true;
        });
        if (ready)
        {
            foreach (var pod in Store.List(Context.Pods, null, p => p.NodeName == name).Items)
            {
                Enqueue(pod.Key);
            }
        }
    }

    /// <summary>The images in a node's cache (normalised references).</summary>
    public IReadOnlyCollection<string> CachedImages(string node) =>
        _nodes.TryGetValue(node, out var runtime) ? runtime.CachedReferences() : [];

    /// <summary>Pulls done per node so far (a pre-pulled image started from cache is not a pull).</summary>
    public int PullCount(string node) => _nodes.TryGetValue(node, out var runtime) ? runtime.Pulls : 0;

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        if (obj.Type.StorageKey != "pods" || obj.NodeName is null || !_nodes.ContainsKey(obj.NodeName))
        {
            return;
        }

        if (change.Type == WatchEventType.Deleted)
        {
            if (_runs.TryRemove(obj.Uid, out var run))
            {
                run.Cancel();
            }

            return;
        }

        if (!_runs.ContainsKey(obj.Uid) && !PodStatus.IsTerminal(obj) && !obj.Deleting)
        {
            Enqueue(obj.Key);
        }
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        var stored = Store.Get(Context.Pods, ns, name);
        if (stored is null || stored.NodeName is null || stored.Deleting || PodStatus.IsTerminal(stored)
            || !_nodes.TryGetValue(stored.NodeName, out var node) || !node.Ready)
        {
            return Task.CompletedTask;
        }

        var run = new PodRun(CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken));
        if (!_runs.TryAdd(stored.Uid, run))
        {
            run.Cancel();
            return Task.CompletedTask;
        }

        run.Task = Task.Run(() => RunPodAsync(stored, node, run), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task RunPodAsync(StoredObject stored, NodeRuntime node, PodRun run)
    {
        var token = run.Token;
        try
        {
            var pod = stored.ToNode();
            var ns = stored.Namespace;
            var name = stored.Name;
            var initContainers = pod.Objects("spec", "initContainers").ToList();
            var containers = pod.Objects("spec", "containers").ToList();
            var credentials = CredentialHosts(pod);
            var podIp = PodIp(stored.Uid);
            var start = Context.Now;

            UpdatePod(ns, name, stored.Uid, status =>
            {
                status["phase"] = "Pending";
                status["hostIP"] = "192.0.2.1";
                status["podIP"] = podIp;
                status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp });
                status["startTime"] ??= start;
                PodStatus.SetCondition(status, "Initialized", initContainers.Count == 0 ? "True" : "False", initContainers.Count == 0 ? "" : "ContainersNotInitialized", initContainers.Count == 0 ? "" : $"containers with incomplete status: [{string.Join(" ", initContainers.Select(c => c.Str("name")))}]", start);
                PodStatus.SetCondition(status, "Ready", "False", "ContainersNotReady", $"containers with unready status: [{string.Join(" ", containers.Select(c => c.Str("name")))}]", start);
                PodStatus.SetCondition(status, "ContainersReady", "False", "ContainersNotReady", $"containers with unready status: [{string.Join(" ", containers.Select(c => c.Str("name")))}]", start);
                CleanConditions(status);
                if (initContainers.Count > 0)
                {
                    status["initContainerStatuses"] = new JsonArray([.. initContainers.Select(c => (JsonNode)Waiting(c, "PodInitializing", null))]);
                }

                status["containerStatuses"] = new JsonArray([.. containers.Select(c => (JsonNode)Waiting(c, initContainers.Count > 0 ? "PodInitializing" : "ContainerCreating", null))]);
            });

            for (var i = 0; i < initContainers.Count; i++)
            {
                var container = initContainers[i];
                var imageId = await EnsureImageAsync(pod, node, container, "initContainerStatuses", i, credentials, token).ConfigureAwait(false);
                if (imageId is null)
                {
                    return;
                }

                var started = Context.Now;
                SetContainer(ns, name, stored.Uid, "initContainerStatuses", i, Running(container, imageId, started, ready: false));
                await Task.Delay(Context.Scaled(Context.Options.CommandRunTime), Context.Time, token).ConfigureAwait(false);
                SetContainer(ns, name, stored.Uid, "initContainerStatuses", i, Terminated(container, imageId, started, Context.Now));
            }

            if (initContainers.Count > 0)
            {
                UpdatePod(ns, name, stored.Uid, status =>
                {
                    PodStatus.SetCondition(status, "Initialized", "True", "", "", Context.Now);
                    CleanConditions(status);
                });
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
                SetContainer(ns, name, stored.Uid, "containerStatuses", i, Running(containers[i], imageId, Context.Now, ready: false));
                Context.RecordEvent(pod, "Normal", "Started", $"Started container {containers[i].Str("name")}", "kubelet", node.Name, $"spec.containers{{{containers[i].Str("name")}}}");
            }

            UpdatePod(ns, name, stored.Uid, status => status["phase"] = "Running");
            await Task.Delay(Context.Scaled(Context.Options.ContainerStartTime), Context.Time, token).ConfigureAwait(false);
            var readyAt = Context.Now;
            UpdatePod(ns, name, stored.Uid, status =>
            {
                foreach (var entry in status.Objects("containerStatuses"))
                {
                    entry["ready"] = true;
                }

                PodStatus.SetCondition(status, "Ready", "True", "", "", readyAt);
                PodStatus.SetCondition(status, "ContainersReady", "True", "", "", readyAt);
                CleanConditions(status);
            });

            if ((pod.Str("spec", "restartPolicy") ?? "Always") != "Always")
            {
                await Task.Delay(Context.Scaled(Context.Options.CommandRunTime), Context.Time, token).ConfigureAwait(false);
                var finished = Context.Now;
                var exitCodes = containers.Select(c => node.Lookup(c.Str("image") ?? "")?.ExitCode ?? 0).ToArray();
                UpdatePod(ns, name, stored.Uid, status =>
                {
                    var entries = status.Objects("containerStatuses").ToList();
                    for (var i = 0; i < entries.Count && i < containers.Count; i++)
                    {
                        status["containerStatuses"]![i] = Terminated(containers[i], imageIds[i], entries[i].Str("state", "running", "startedAt") ?? finished, finished, exitCodes[i]);
                    }

                    status["phase"] = exitCodes.All(c => c == 0) ? "Succeeded" : "Failed";
                    PodStatus.SetCondition(status, "Ready", "False", "PodCompleted", "", finished);
                    PodStatus.SetCondition(status, "ContainersReady", "False", "PodCompleted", "", finished);
                    foreach (var condition in status.Objects("conditions").Where(c => c.Str("reason") == "PodCompleted"))
                    {
                        condition.Remove("message");
                    }
                });
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
            Context.ReportError(nameof(Kubelet), stored.Key, e);
        }
        finally
        {
            if (_runs.TryGetValue(stored.Uid, out var current) && current == run && (Store.Get(Context.Pods, stored.Namespace, stored.Name)?.Uid != stored.Uid))
            {
                _runs.TryRemove(stored.Uid, out _);
            }
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
            SetContainer(ns, name, uid, list, index, Waiting(container, "InvalidImageName", message));
            Context.RecordEvent(pod, "Warning", "InspectFailed", message, "kubelet", node.Name, fieldPath);
            return null;
        }

        var cached = node.Lookup(image);
        if (cached is not null && policy != "Always")
        {
            Context.RecordEvent(pod, "Normal", "Pulled", $"Container image \"{image}\" already present on machine", "kubelet", node.Name, fieldPath);
            return cached.ImageId;
        }

        if (policy == "Never")
        {
            var message = $"Container image \"{image}\" is not present with pull policy of Never";
            SetContainer(ns, name, uid, list, index, Waiting(container, "ErrImageNeverPull", message));
            return null;
        }

        var backoff = InitialBackoff;
        while (true)
        {
            token.ThrowIfCancellationRequested();
            Context.RecordEvent(pod, "Normal", "Pulling", $"Pulling image \"{image}\"", "kubelet", node.Name, fieldPath);
            var began = Context.Time.GetTimestamp();
            var beganAt = Context.Time.GetUtcNow();
            var result = await node.PullAsync(image, credentials, Context, token).ConfigureAwait(false);
            if (result.Succeeded)
            {
                CompletedPulls.Record(new CompletedPull(node.Name, ImageRegistry.Normalize(image), beganAt, Context.Time.GetUtcNow()));
                var took = Context.Time.GetElapsedTime(began).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                Context.RecordEvent(pod, "Normal", "Pulled", $"Successfully pulled image \"{image}\" in {took}s. Image size: {result.SizeBytes} bytes.", "kubelet", node.Name, fieldPath);
                Store.Mutate(Context.Nodes, "", node.Name, n =>
                {
                    var images = node.StatusImages(MaxStatusImages);
                    if (JsonNode.DeepEquals(n.At("status", "images"), images))
                    {
                        return false;
                    }

                    n.Obj("status")["images"] = images;
                    return true;
                });
                return result.ImageId;
            }

            SetContainer(ns, name, uid, list, index, Waiting(container, result.Reason, result.Message));
            Context.RecordEvent(pod, "Warning", "Failed", $"Failed to pull image \"{image}\": {result.Message}", "kubelet", node.Name, fieldPath);
            Context.RecordEvent(pod, "Warning", "Failed", $"Error: {result.Reason}", "kubelet", node.Name, fieldPath);
            await Task.Delay(Context.Scaled(TimeSpan.FromSeconds(1)), Context.Time, token).ConfigureAwait(false);
            SetContainer(ns, name, uid, list, index, Waiting(container, "ImagePullBackOff", $"Back-off pulling image \"{image}\""));
            Context.RecordEvent(pod, "Normal", "BackOff", $"Back-off pulling image \"{image}\"", "kubelet", node.Name, fieldPath);
            await Task.Delay(Context.Scaled(backoff), Context.Time, token).ConfigureAwait(false);
            backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        }
    }

    private HashSet<string> CredentialHosts(JsonObject pod)
    {
        var hosts = new HashSet<string>(StringComparer.Ordinal);
        var ns = pod.Str("metadata", "namespace") ?? "";
        foreach (var reference in pod.Objects("spec", "imagePullSecrets"))
        {
            var secret = Store.Get(Context.Secrets, ns, reference.Str("name") ?? "");
            if (secret is null)
            {
                continue;
            }

            var node = secret.ToNode();
            var encoded = node.Str("data", ".dockerconfigjson") ?? node.Str("data", ".dockercfg");
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
                    hosts.Add(host == "index.docker.io" ? "docker.io" : host);
                }
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                // A malformed pull secret gives no credentials, as with containerd.
            }
        }

        return hosts;
    }

    private void SetContainer(string ns, string name, string uid, string list, int index, JsonObject entry) =>
        UpdatePod(ns, name, uid, status =>
        {
            var entries = status.Arr(list);
            while (entries.Count <= index)
            {
                entries.Add(new JsonObject());
            }

            entries[index] = entry;
        });

    private void UpdatePod(string ns, string name, string uid, Action<JsonObject> change) =>
        Store.Mutate(Context.Pods, ns, name, pod =>
        {
            if (pod.Str("metadata", "uid") != uid || pod.Str("metadata", "deletionTimestamp") is not null)
            {
                return false;
            }

            var status = pod.Obj("status");
            var before = status.ToJsonString();
            change(status);
            return before != status.ToJsonString();
        });

    private static void CleanConditions(JsonObject status)
    {
        foreach (var condition in status.Objects("conditions"))
        {
            if (condition.Str("reason") is "")
            {
                condition.Remove("reason");
            }

            if (condition.Str("message") is "")
            {
                condition.Remove("message");
            }

            condition["lastProbeTime"] = null;
        }
    }

    private static JsonObject Waiting(JsonObject container, string reason, string? message)
    {
        var waiting = new JsonObject { ["reason"] = reason };
        if (message is not null)
        {
            waiting["message"] = message;
        }

        return new JsonObject
        {
            ["name"] = container.Str("name"),
            ["state"] = new JsonObject { ["waiting"] = waiting },
            ["lastState"] = new JsonObject(),
            ["ready"] = false,
            ["restartCount"] = 0,
            ["image"] = container.Str("image"),
            ["imageID"] = "",
            ["started"] = false,
        };
    }

    private static JsonObject Running(JsonObject container, string imageId, string startedAt, bool ready) => new()
    {
        ["name"] = container.Str("name"),
        ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = startedAt } },
        ["lastState"] = new JsonObject(),
        ["ready"] = ready,
        ["restartCount"] = 0,
        ["image"] = ImageRegistry.Normalize(container.Str("image") ?? ""),
        ["imageID"] = imageId,
        ["containerID"] = ContainerId(imageId, container.Str("name")),
        ["started"] = true,
    };

    private static JsonObject Terminated(JsonObject container, string imageId, string startedAt, string finishedAt, int exitCode = 0) => new()
    {
        ["name"] = container.Str("name"),
        ["state"] = new JsonObject
        {
            ["terminated"] = new JsonObject
            {
                ["exitCode"] = exitCode,
                ["reason"] = exitCode == 0 ? "Completed" : "Error",
                ["startedAt"] = startedAt,
                ["finishedAt"] = finishedAt,
                ["containerID"] = ContainerId(imageId, container.Str("name")),
            },
        },
        ["lastState"] = new JsonObject(),
        ["ready"] = false,
        ["restartCount"] = 0,
        ["image"] = ImageRegistry.Normalize(container.Str("image") ?? ""),
        ["imageID"] = imageId,
        ["containerID"] = ContainerId(imageId, container.Str("name")),
        ["started"] = false,
    };

    private static string ContainerId(string imageId, string? name) =>
        "containerd://" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(imageId + "/" + name))).ToLowerInvariant();

    private static string PodIp(string uid)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(uid));
        return $"10.{bytes[0]}.{bytes[1]}.{Math.Max((int)bytes[2], 1)}";
    }

    private void Heartbeat()
    {
        foreach (var (name, runtime) in _nodes)
        {
            if (runtime.Ready && !_stopping.IsCancellationRequested)
            {
                RenewLease(name);
            }
        }
    }

    private void RenewLease(string node)
    {
        var renewTime = Context.Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var updated = Store.Mutate(Context.Leases, "kube-node-lease", node, lease =>
        {
            lease.Obj("spec")["renewTime"] = renewTime;
            return true;
        });
        if (updated is not null)
        {
            return;
        }

        var owner = Store.Get(Context.Nodes, "", node);
        var metadata = new JsonObject { ["name"] = node, ["namespace"] = "kube-node-lease" };
        if (owner is not null)
        {
            metadata["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Node", ["name"] = node, ["uid"] = owner.Uid });
        }

        try
        {
            Store.Create(Context.Leases, new JsonObject
            {
                ["apiVersion"] = "coordination.k8s.io/v1",
                ["kind"] = "Lease",
                ["metadata"] = metadata,
                ["spec"] = new JsonObject { ["holderIdentity"] = node, ["leaseDurationSeconds"] = 40, ["renewTime"] = renewTime },
            });
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // Created concurrently.
        }
    }

    /// <summary>Stops heartbeats and every pod run, and waits for them to end.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _heartbeat?.Dispose();
        foreach (var run in _runs.Values)
        {
            run.Cancel();
        }

        var running = _runs.Values.Select(r => r.Task).OfType<Task>().ToArray();
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected: the runs were cancelled.
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _heartbeat?.Dispose();
        foreach (var run in _runs.Values)
        {
            run.Cancel();
        }

        foreach (var node in _nodes.Values)
        {
            node.Dispose();
        }

        _stopping.Dispose();
    }

    private sealed class PodRun(CancellationTokenSource cancellation)
    {
        public CancellationToken Token => cancellation.Token;

        public Task? Task { get; set; }

        public void Cancel()
        {
            try
            {
                cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already finished.
            }
        }
    }

    /// <summary>One node's runtime state: readiness, image cache and its one-at-a-time pull queue.</summary>
    private sealed class NodeRuntime(NodeSpec spec, long bandwidth) : IDisposable
    {
        private readonly SemaphoreSlim _pullQueue = new(1, 1);
        private readonly Lock _lock = new();
        private readonly Dictionary<string, PullResult> _byReference = new(StringComparer.Ordinal);
        private int _pulls;

        public string Name => spec.Name;

        public volatile bool Ready = true;

        public int Pulls => Volatile.Read(ref _pulls);

        public PullResult? Lookup(string image)
        {
            lock (_lock)
            {
                return _byReference.GetValueOrDefault(ImageRegistry.Normalize(image));
            }
        }

        public void Remember(string image, PullResult pulled)
        {
            lock (_lock)
            {
                _byReference[ImageRegistry.Normalize(image)] = pulled;
                _byReference[pulled.ImageId] = pulled;
            }
        }

        public IReadOnlyCollection<string> CachedReferences()
        {
            lock (_lock)
            {
                return [.. _byReference.Keys];
            }
        }

        public async Task<PullResult> PullAsync(string image, IReadOnlySet<string> credentials, SimulationContext context, CancellationToken token)
        {
            await _pullQueue.WaitAsync(token).ConfigureAwait(false);
            try
            {
                var result = context.Registry.Resolve(image, spec.Architecture, credentials);
                if (!result.Succeeded)
                {
                    await Task.Delay(context.Scaled(TimeSpan.FromMilliseconds(200)), context.Time, token).ConfigureAwait(false);
                    return result;
                }

                var already = Lookup(image);
                var seconds = already is not null && already.Digest == result.Digest
                    ? 0.1
                    : result.SizeBytes / (double)Math.Max(1, bandwidth) * result.SlowFactor;
                await Task.Delay(context.Scaled(TimeSpan.FromSeconds(seconds)), context.Time, token).ConfigureAwait(false);
                Remember(image, result);
                Interlocked.Increment(ref _pulls);
                return result;
            }
            finally
            {
                _pullQueue.Release();
            }
        }

        public void Dispose() => _pullQueue.Dispose();

        public JsonArray StatusImages(int max)
        {
            lock (_lock)
            {
                return new JsonArray([.. _byReference
                    .GroupBy(p => p.Value.ImageId, StringComparer.Ordinal)
                    .Select(g => (Names: g.Select(p => p.Key).Where(k => k != g.Key).Prepend(g.Key).Distinct(StringComparer.Ordinal).ToList(), Size: g.First().Value.SizeBytes))
                    .OrderByDescending(i => i.Size)
                    .ThenBy(i => i.Names[0], StringComparer.Ordinal)
                    .Take(max)
                    .Select(i => (JsonNode)new JsonObject
                    {
                        ["names"] = new JsonArray([.. i.Names.Select(n => (JsonNode)n)]),
                        ["sizeBytes"] = i.Size,
                    })]);
            }
        }
    }
}
