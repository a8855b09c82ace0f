using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// The kubelets of every simulated node, in one event-driven loop: node registration, Lease heartbeats, a per-node
/// image cache with pulls serialised per node (time = size / bandwidth, scaled), ErrImagePull/ImagePullBackOff with
/// containerd's messages, pull secrets, init containers before containers, <c>status.images</c> (≤ 50 entries) and
/// the confirmation of pod deletions. Every read and write goes through one <see cref="IKubeletApi"/>, so the same
/// kubelets serve the in-process simulator and nodes attached to any API server.
/// </summary>
/// <remarks>
/// The kubelets also do the part of the node lifecycle controller a simulated cluster needs: they remove the
/// <c>node.kubernetes.io/not-ready</c> taint the API server puts on every new Node once they report Ready, and
/// <see cref="SetNodeReadyAsync"/> sets or clears the <c>unreachable</c> taints.
/// </remarks>
public sealed partial class Kubelet : IDisposable
{
    private const string UnreachableTaint = "node.kubernetes.io/unreachable";
    private const int LeaseDurationSeconds = 40;

    private readonly IKubeletApi _api;
    private readonly KubeletSettings _settings;
    private readonly ConcurrentDictionary<string, NodeRuntime> _nodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PodRun> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ImagePull> _pullLog = new();
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly Lock _queuedLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _heartbeat;

    public Kubelet(IKubeletApi api, KubeletSettings settings)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(settings);
        _api = api;
        _settings = settings;
    }

    private SimulatorOptions Options => _settings.Options;

    private TimeProvider Time => _settings.Options.Time;

    private string Now => JsonPaths.Timestamp(Time.GetUtcNow());

    public IReadOnlyCollection<string> NodeNames => [.. _nodes.Keys];

    /// <summary>The images in a node's cache (normalised references and repo digests).</summary>
    public IReadOnlyCollection<string> CachedImages(string node) =>
        _nodes.TryGetValue(node, out var runtime) ? runtime.Images.References() : [];

    /// <summary>Pulls done per node so far (a pre-pulled image started from cache is not a pull).</summary>
    public int PullCount(string node) => _nodes.TryGetValue(node, out var runtime) ? runtime.Pulls : 0;

    /// <summary>Every pull attempt so far, on every node, in the order they finished.</summary>
    public IReadOnlyList<ImagePull> Pulls => [.. _pullLog];

    /// <summary>
    /// Registers nodes (Node object with status, then the not-ready taint removed, then the Lease) and starts their
    /// kubelets: from then on each takes the pods bound to it.
    /// </summary>
    public async Task AddNodesAsync(IEnumerable<NodeSpec> specs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(specs);
        foreach (var spec in specs)
        {
            var runtime = new NodeRuntime(spec, spec.BandwidthBytesPerSecond ?? Options.NodeBandwidthBytesPerSecond);
            foreach (var image in spec.PreloadedImages)
            {
                var pulled = _settings.Registry.Resolve(image, spec.Architecture, new HashSet<string>());
                if (pulled.Succeeded)
                {
                    runtime.Images.Remember(image, pulled);
                }
            }

            if (!_nodes.TryAdd(spec.Name, runtime))
            {
                runtime.Dispose();
                throw new InvalidOperationException($"node {spec.Name} already exists");
            }

            var node = spec.ToNode(Now);
            node["status"]!["images"] = runtime.Images.StatusImages();
            try
            {
                var registered = await _api.RegisterNodeAsync(node, cancellationToken).ConfigureAwait(false);
                runtime.Uid = registered.Str("metadata", "uid") ?? "";
                KnowListedImages(runtime, registered.Objects("status", "images"));
                if (spec.NetworkReadyAfter > TimeSpan.Zero)
                {
                    // Registered NotReady with the not-ready taint; both go when the network comes up.
                    runtime.Ready = false;
                    runtime.NetworkReady = Time.CreateTimer(_ => _ = BecomeReadyAsync(runtime), null, Options.Scaled(spec.NetworkReadyAfter), Timeout.InfiniteTimeSpan);
                }
                else
                {
                    await _api.UpdateNodeAsync(spec.Name, RemoveNotReadyTaint, cancellationToken).ConfigureAwait(false);
                }

                await PublishImagesAsync(runtime, cancellationToken).ConfigureAwait(false);
                await HeartbeatAsync(runtime, cancellationToken).ConfigureAwait(false);
            }
            catch when (runtime.Uid.Length == 0)
            {
                // Not registered: forget it. A registered node stays known (so that it can be deleted) even when
                // what follows registration was interrupted.
                _nodes.TryRemove(spec.Name, out _);
                runtime.Dispose();
                throw;
            }

            runtime.PodWatch = _api.WatchPods(spec.Name, OnPodChange);
        }

        _heartbeat ??= Time.CreateTimer(_ => _ = HeartbeatAllAsync(), null, Options.NodeHeartbeat, Options.NodeHeartbeat);
    }

    /// <summary>A node registered with <see cref="NodeSpec.NetworkReadyAfter"/>: reports Ready, then its not-ready taint goes.</summary>
    private async Task BecomeReadyAsync(NodeRuntime runtime)
    {
        try
        {
            await SetNodeReadyAsync(runtime.Name, true, _stopping.Token).ConfigureAwait(false);
            await _api.UpdateNodeAsync(runtime.Name, RemoveNotReadyTaint, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
#pragma warning disable CA1031 // A timer callback has no caller to throw to; the error is reported like a pod's.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _settings.ReportError(runtime.Name, e);
        }
    }

    /// <summary>Marks a node NotReady (the kubelet stops posting status; unreachable taints) or Ready again.</summary>
    public async Task SetNodeReadyAsync(string name, bool ready, CancellationToken cancellationToken)
    {
        if (!_nodes.TryGetValue(name, out var runtime))
        {
            throw new InvalidOperationException($"node {name} is not simulated");
        }

        runtime.Ready = ready;
        var now = Now;
        await _api.UpdateNodeAsync(name, node =>
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

            var kept = Taints(node).Where(t => t.Str("key") != UnreachableTaint).ToList();
            if (!ready)
            {
                kept.Add(new JsonObject { ["key"] = UnreachableTaint, ["effect"] = "NoSchedule", ["timeAdded"] = now });
                kept.Add(new JsonObject { ["key"] = UnreachableTaint, ["effect"] = "NoExecute", ["timeAdded"] = now });
            }

            SetTaints(node, kept);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        if (ready)
        {
            foreach (var pod in await _api.ListPodsAsync(name, cancellationToken).ConfigureAwait(false))
            {
                Enqueue($"{pod.Str("metadata", "namespace")}/{pod.Str("metadata", "name")}");
            }
        }
    }

    /// <summary>Takes the pod queue: starts pods bound to simulated nodes and confirms their deletion. Ends when stopped.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var token = both.Token;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (_queue.Reader.TryRead(out var key))
                {
                    lock (_queuedLock)
                    {
                        _queued.Remove(key);
                    }

                    try
                    {
                        await ReconcileAsync(key, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        return;
                    }
#pragma warning disable CA1031 // One bad pod must not stop the kubelets of every other pod.
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        _settings.ReportError(key, e);
                        RetryLater(key, token);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Hears about a pod bound to one of the nodes. May run under the in-process store's lock: only takes note.</summary>
    private void OnPodChange(PodChange change)
    {
        if (change.Gone)
        {
            if (_runs.TryRemove(change.Uid, out var run))
            {
                run.Cancel();
            }

            return;
        }

        if (change.Deleting || (!_runs.ContainsKey(change.Uid) && !change.Terminal))
        {
            Enqueue(change.Key);
        }
    }

    private void Enqueue(string key)
    {
        lock (_queuedLock)
        {
            if (!_queued.Add(key))
            {
                return;
            }
        }

        _queue.Writer.TryWrite(key);
    }

    private void RetryLater(string key, CancellationToken token) =>
        _ = Task.Delay(TimeSpan.FromSeconds(1), Time, token).ContinueWith(_ => Enqueue(key), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    private async Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var pod = await _api.GetPodAsync(ns, name, cancellationToken).ConfigureAwait(false);
        var nodeName = pod?.Str("spec", "nodeName");
        if (pod is null || nodeName is null || !_nodes.TryGetValue(nodeName, out var node))
        {
            return;
        }

        var uid = pod.Str("metadata", "uid") ?? "";
        if (pod.Str("metadata", "deletionTimestamp") is not null)
        {
            await ConfirmDeletionAsync(pod, node, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (PodStatus.IsTerminal(pod) || !node.Ready)
        {
            return;
        }

        if (IsRunningService(pod))
        {
            // Running before this kubelet started (the nodes command restarted): its containers go on, as a restarted
            // kubelet finds them. Only the images it runs are known again.
            if (_runs.TryAdd(uid, PodRun.Adopted()))
            {
                KnowListedImages(node, pod.Objects("status", "containerStatuses").Select(c => new JsonObject
                {
                    ["names"] = new JsonArray(c.Str("imageID"), c.Str("image")),
                }));
                await PublishImagesAsync(node, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var run = new PodRun(CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
        if (!_runs.TryAdd(uid, run))
        {
            run.Cancel();
            return;
        }

        run.Task = Task.Run(() => RunPodAsync(pod, node, run), CancellationToken.None);
    }

    /// <summary>
    /// A pod being deleted: stop its containers (end its run), then delete it for good with
    /// <c>gracePeriodSeconds=0</c>, as a kubelet does once the containers are gone.
    /// </summary>
    private async Task ConfirmDeletionAsync(JsonObject pod, NodeRuntime node, CancellationToken cancellationToken)
    {
        var (ns, name, uid) = (pod.Str("metadata", "namespace")!, pod.Str("metadata", "name")!, pod.Str("metadata", "uid") ?? "");
        if (_runs.TryGetValue(uid, out var run) && !run.Token.IsCancellationRequested)
        {
            run.Cancel();
            if (run.Task is { } running)
            {
                await running.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            foreach (var container in pod.Objects("status", "containerStatuses").Where(c => c.At("state", "running") is not null))
            {
                await RecordAsync(pod, "Normal", "Killing", $"Stopping container {container.Str("name")}", node.Name, $"spec.containers{{{container.Str("name")}}}", cancellationToken).ConfigureAwait(false);
            }
        }

        // A grace period of 0 is a deletion already confirmed (finalizers keep the pod): nothing to repeat.
        if (pod.Long("metadata", "deletionGracePeriodSeconds") is not 0)
        {
            await _api.DeletePodAsync(ns, name, uid, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A restart-always pod whose containers all run: nothing for a new kubelet to do but watch it.</summary>
    private static bool IsRunningService(JsonObject pod)
    {
        var statuses = pod.Objects("status", "containerStatuses").ToList();
        return (pod.Str("spec", "restartPolicy") ?? "Always") == "Always" && pod.Str("status", "phase") == "Running"
            && statuses.Count == pod.Objects("spec", "containers").Count() && statuses.All(c => c.At("state", "running") is not null);
    }

    /// <summary>
    /// Takes images a node already lists (from an earlier run of its kubelet) back into its cache: each name the
    /// registry still serves under the digest listed with it.
    /// </summary>
    private void KnowListedImages(NodeRuntime node, IEnumerable<JsonObject> listed)
    {
        foreach (var image in listed)
        {
            var names = image["names"] is JsonArray array ? array.Select(n => n?.ToString() ?? "").Where(n => n.Length > 0).ToList() : [];
            foreach (var name in names)
            {
                if (_settings.Registry.Describe(name) is { } known && names.Contains(known.ImageId) && node.Images.Lookup(name) is null)
                {
                    node.Images.Remember(name, known);
                }
            }
        }
    }

    /// <summary>Writes the node's <c>status.images</c> when its cache lists something else.</summary>
    private Task PublishImagesAsync(NodeRuntime node, CancellationToken cancellationToken) =>
        _api.UpdateNodeAsync(node.Name, n =>
        {
            var images = node.Images.StatusImages();
            if (JsonNode.DeepEquals(n.At("status", "images"), images))
            {
                return false;
            }

            n.Obj("status")["images"] = images;
            return true;
        }, cancellationToken);

    private static bool RemoveNotReadyTaint(JsonObject node)
    {
        var taints = Taints(node);
        var kept = taints.Where(t => t.Str("key") != Admission.NodeTaintAdmission.NotReadyTaint).ToList();
        if (kept.Count == taints.Count)
        {
            return false;
        }

        SetTaints(node, kept);
        return true;
    }

    private static List<JsonObject> Taints(JsonObject node) =>
        [.. (node.At("spec", "taints") as JsonArray ?? []).OfType<JsonObject>().Select(t => (JsonObject)t.DeepClone())];

    private static void SetTaints(JsonObject node, List<JsonObject> taints)
    {
        if (taints.Count == 0)
        {
            node.Obj("spec").Remove("taints");
        }
        else
        {
            node.Obj("spec")["taints"] = new JsonArray([.. taints]);
        }
    }

    private async Task HeartbeatAllAsync()
    {
        foreach (var runtime in _nodes.Values)
        {
            if (!runtime.Ready || _stopping.IsCancellationRequested)
            {
                continue;
            }

            try
            {
                await HeartbeatAsync(runtime, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed heartbeat is retried on the next period, as a kubelet does.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _settings.ReportError(runtime.Name, e);
            }
        }
    }

    /// <summary>Renews the node's Lease, or (without Leases) posts its Ready condition's heartbeat time.</summary>
    private async Task HeartbeatAsync(NodeRuntime runtime, CancellationToken cancellationToken)
    {
        if (_settings.NodeLeases)
        {
            var renewTime = Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
            await _api.RenewLeaseAsync(runtime.Name, runtime.Uid, renewTime, LeaseDurationSeconds, cancellationToken).ConfigureAwait(false);
            return;
        }

        var now = Now;
        await _api.UpdateNodeAsync(runtime.Name, node =>
        {
            foreach (var condition in node.Objects("status", "conditions"))
            {
                condition["lastHeartbeatTime"] = now;
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops heartbeats, pod watches and every pod run, and waits for them to end.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _heartbeat?.Dispose();
        foreach (var node in _nodes.Values)
        {
            if (node.PodWatch is { } watch)
            {
                node.PodWatch = null;
                await watch.DisposeAsync().ConfigureAwait(false);
            }
        }

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
        /// <summary>The run of a pod found running: nothing to wait for.</summary>
        public static PodRun Adopted() => new(new CancellationTokenSource()) { Task = System.Threading.Tasks.Task.CompletedTask };

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
}
