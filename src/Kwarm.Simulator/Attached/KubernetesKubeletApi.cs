using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Attached;

/// <summary>
/// The kubelet's cluster when it is any API server: the calls a kubelet makes, over <see cref="ApiConnection"/>.
/// Nodes are created with their status (as a kubelet's registration does) and changed by GET then PUT of the Node
/// and of <c>nodes/status</c>; pod status goes through <c>pods/status</c>; pods bound to a node are listed and
/// watched with <c>fieldSelector=spec.nodeName=NODE</c>; deletions are confirmed with <c>gracePeriodSeconds=0</c>
/// and a uid precondition; pull secrets are read through the API. Conflicts are retried with a fresh read.
/// </summary>
internal sealed class KubernetesKubeletApi : IKubeletApi
{
    /// <summary>Every Node the attached kubelets register carries this label; they never take over a Node without it.</summary>
    public const string SimulatedNodeLabel = "kwarm.io/simulated-node";

    private const int ConflictRetries = 20;
    private static readonly TimeSpan WatchRetry = TimeSpan.FromSeconds(1);

    private readonly ApiConnection _api;
    private readonly TimeProvider _time;
    private readonly Action<string, Exception> _reportError;
    private readonly ConcurrentDictionary<string, (string Name, long Count)> _events = new(StringComparer.Ordinal);

    public KubernetesKubeletApi(ApiConnection api, TimeProvider time, Action<string, Exception> reportError)
    {
        _api = api;
        _time = time;
        _reportError = reportError;
    }

    public async Task<JsonObject> RegisterNodeAsync(JsonObject node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var name = node.Str("metadata", "name")!;
        try
        {
            return await _api.PostAsync("/api/v1/nodes", node, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // A Node of that name exists: ours from an earlier run is taken over (fresh status), anything else is left alone.
            for (var attempt = 0; ; attempt++)
            {
                var existing = await _api.GetAsync(NodePath(name), cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"node {name} existed and then vanished while registering");
                if (existing.Str("metadata", "labels", SimulatedNodeLabel) is null)
                {
                    throw new InvalidOperationException($"node {name} already exists and is not a simulated node (no {SimulatedNodeLabel} label): refusing to take it over", e);
                }

                // Its images are still "on disk": they stay listed, and the kubelet takes them back into its cache.
                var images = existing.At("status", "images")?.DeepClone();
                existing["status"] = node["status"]!.DeepClone();
                if (images is JsonArray { Count: > 0 })
                {
                    existing.Obj("status")["images"] = images;
                }

                try
                {
                    return await _api.PutAsync(NodePath(name) + "/status", existing, cancellationToken).ConfigureAwait(false);
                }
                catch (ApiException conflict) when (conflict.Code == 409 && attempt < ConflictRetries)
                {
                    // Changed meanwhile: read again.
                }
            }
        }
    }

    public async Task UpdateNodeAsync(string name, Func<JsonObject, bool> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 0; ; attempt++)
        {
            var current = await _api.GetAsync(NodePath(name), cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return;
            }

            var changed = (JsonObject)current.DeepClone();
            if (!change(changed))
            {
                return;
            }

            try
            {
                // The Node itself keeps its status on update, and nodes/status keeps the spec: each half has its own write.
                if (!JsonNode.DeepEquals(current["spec"], changed["spec"]) || !JsonNode.DeepEquals(current["metadata"], changed["metadata"]))
                {
                    var written = await _api.PutAsync(NodePath(name), changed, cancellationToken).ConfigureAwait(false);
                    changed.Metadata()["resourceVersion"] = written.Str("metadata", "resourceVersion");
                }

                if (!JsonNode.DeepEquals(current["status"], changed["status"]))
                {
                    await _api.PutAsync(NodePath(name) + "/status", changed, cancellationToken).ConfigureAwait(false);
                }

                return;
            }
            catch (ApiException e) when (e.Code == 409 && attempt < ConflictRetries)
            {
                // Someone else wrote the Node (the scheduler does not, but a person or the lifecycle controller may): redo on fresh state.
            }
            catch (ApiException e) when (e.Code == 404)
            {
                return;
            }
        }
    }

    public async Task RenewLeaseAsync(string node, string nodeUid, string renewTime, int durationSeconds, CancellationToken cancellationToken)
    {
        var path = $"/apis/coordination.k8s.io/v1/namespaces/{NodeLease.Namespace}/leases/{Uri.EscapeDataString(node)}";
        try
        {
            var lease = await _api.GetAsync(path, cancellationToken).ConfigureAwait(false);
            if (lease is null)
            {
                await _api.PostAsync($"/apis/coordination.k8s.io/v1/namespaces/{NodeLease.Namespace}/leases", NodeLease.Create(node, nodeUid, renewTime, durationSeconds), cancellationToken).ConfigureAwait(false);
                return;
            }

            lease.Obj("spec")["renewTime"] = renewTime;
            lease.Obj("spec")["holderIdentity"] = node;
            await _api.PutAsync(path, lease, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // Written concurrently: the next heartbeat renews it.
        }
    }

    public IAsyncDisposable WatchPods(string node, Action<PodChange> onChange) => PodWatch.Start(this, node, onChange);

    public Task<JsonObject?> GetPodAsync(string podNamespace, string name, CancellationToken cancellationToken) =>
        _api.GetAsync(PodPath(podNamespace, name), cancellationToken);

    public async Task<IReadOnlyList<JsonObject>> ListPodsAsync(string node, CancellationToken cancellationToken)
    {
        var list = await _api.GetAsync(PodsOnNode(node), cancellationToken).ConfigureAwait(false);
        return [.. list.Objects("items")];
    }

    public async Task UpdatePodStatusAsync(string podNamespace, string name, Func<JsonObject, bool> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 0; ; attempt++)
        {
            var pod = await _api.GetAsync(PodPath(podNamespace, name), cancellationToken).ConfigureAwait(false);
            if (pod is null || !change(pod))
            {
                return;
            }

            try
            {
                await _api.PutAsync(PodPath(podNamespace, name) + "/status", pod, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ApiException e) when (e.Code == 409 && attempt < ConflictRetries)
            {
                // The pod changed meanwhile (a label, a deletion): apply the change to what is there now.
            }
            catch (ApiException e) when (e.Code == 404)
            {
                return;
            }
        }
    }

    public async Task DeletePodAsync(string podNamespace, string name, string uid, CancellationToken cancellationToken)
    {
        var options = new JsonObject
        {
            ["kind"] = "DeleteOptions",
            ["apiVersion"] = "v1",
            ["gracePeriodSeconds"] = 0,
            ["preconditions"] = new JsonObject { ["uid"] = uid },
        };
        try
        {
            await _api.DeleteAsync(PodPath(podNamespace, name), options, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException e) when (e.Code is 404 or 409)
        {
            // Gone already, or a new pod of that name: nothing of ours left to confirm.
        }
    }

    public Task<JsonObject?> GetSecretAsync(string podNamespace, string name, CancellationToken cancellationToken) =>
        _api.GetAsync($"/api/v1/namespaces/{Uri.EscapeDataString(podNamespace)}/secrets/{Uri.EscapeDataString(name)}", cancellationToken);

    /// <summary>Like client-go's event recorder: a repeat of the same event on the same pod bumps count and lastTimestamp.</summary>
    public async Task RecordEventAsync(JsonObject pod, KubeletEvent evt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(evt);
        var ns = pod.Str("metadata", "namespace") ?? "default";
        var now = JsonPaths.Timestamp(_time.GetUtcNow());
        var aggregate = $"{ns}/{pod.Str("metadata", "uid")}/{evt.Type}/{evt.Reason}/{evt.FieldPath}/{evt.Message}";
        try
        {
            if (_events.TryGetValue(aggregate, out var existing))
            {
                try
                {
                    await _api.MergePatchAsync($"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/events/{Uri.EscapeDataString(existing.Name)}", new JsonObject { ["count"] = existing.Count + 1, ["lastTimestamp"] = now }, cancellationToken).ConfigureAwait(false);
                    _events[aggregate] = (existing.Name, existing.Count + 1);
                    return;
                }
                catch (ApiException e) when (e.Code == 404)
                {
                    // The Event expired (events have a TTL): record it anew.
                }
            }

            var name = $"{pod.Str("metadata", "name")}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}";
            await _api.PostAsync($"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/events", KubeletEventObject(pod, evt, name, ns, now), cancellationToken).ConfigureAwait(false);
            if (_events.Count > 100_000)
            {
                _events.Clear();
            }

            _events[aggregate] = (name, 1);
        }
        catch (ApiException e) when (e.Code is 403 or 404 or 409)
        {
            // The namespace is going away or the Event raced another write: a kubelet drops such events too.
        }
        catch (Exception e) when (e is ApiException or HttpRequestException)
        {
            // Events are best effort for a kubelet: the pod's life goes on without them.
            _reportError($"{ns}/{pod.Str("metadata", "name")}", e);
        }
    }

    private static JsonObject KubeletEventObject(JsonObject pod, KubeletEvent evt, string name, string ns, string now)
    {
        var involved = new JsonObject
        {
            ["kind"] = "Pod",
            ["namespace"] = ns,
            ["name"] = pod.Str("metadata", "name"),
            ["uid"] = pod.Str("metadata", "uid"),
            ["apiVersion"] = "v1",
            ["resourceVersion"] = pod.Str("metadata", "resourceVersion"),
        };
        if (evt.FieldPath is not null)
        {
            involved["fieldPath"] = evt.FieldPath;
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["involvedObject"] = involved,
            ["reason"] = evt.Reason,
            ["message"] = evt.Message,
            ["source"] = new JsonObject { ["component"] = "kubelet", ["host"] = evt.Node },
            ["firstTimestamp"] = now,
            ["lastTimestamp"] = now,
            ["count"] = 1,
            ["type"] = evt.Type,
            ["reportingComponent"] = "kubelet",
            ["reportingInstance"] = evt.Node,
        };
    }

    private static string NodePath(string name) => $"/api/v1/nodes/{Uri.EscapeDataString(name)}";

    private static string PodPath(string ns, string name) => $"/api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods/{Uri.EscapeDataString(name)}";

    private static string PodsOnNode(string node) => "/api/v1/pods?fieldSelector=" + Uri.EscapeDataString("spec.nodeName=" + node);

    private static PodChange Change(JsonObject pod, bool gone) => new(
        pod.Str("metadata", "namespace") ?? "",
        pod.Str("metadata", "name") ?? "",
        pod.Str("metadata", "uid") ?? "",
        gone,
        pod.Str("metadata", "deletionTimestamp") is not null,
        PodStatus.IsTerminal(pod));

    /// <summary>
    /// List-then-watch of one node's pods, as an informer does: after a list, pods no longer there are reported gone;
    /// a watch that ends is resumed from the last resourceVersion seen, one that expired (410) starts over with a list.
    /// </summary>
    private sealed class PodWatch : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Dictionary<string, string> _known = new(StringComparer.Ordinal);
        private Task _loop = Task.CompletedTask;

        public static PodWatch Start(KubernetesKubeletApi owner, string node, Action<PodChange> onChange)
        {
            var watch = new PodWatch();
            watch._loop = Task.Run(() => watch.RunAsync(owner, node, onChange, watch._stop.Token));
            return watch;
        }

        private async Task RunAsync(KubernetesKubeletApi owner, string node, Action<PodChange> onChange, CancellationToken token)
        {
            string? resourceVersion = null;
            while (!token.IsCancellationRequested)
            {
                try
                {
                    resourceVersion ??= await ListAsync(owner, node, onChange, token).ConfigureAwait(false);
                    var path = PodsOnNode(node) + $"&watch=true&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion={Uri.EscapeDataString(resourceVersion)}";
                    await foreach (var (type, pod) in owner._api.WatchAsync(path, token).ConfigureAwait(false))
                    {
                        if (type == "ERROR")
                        {
                            // Mostly 410 Expired: the resourceVersion is too old to resume from, so list again.
                            resourceVersion = null;
                            break;
                        }

                        resourceVersion = pod.Str("metadata", "resourceVersion") ?? resourceVersion;
                        if (type is "ADDED" or "MODIFIED" or "DELETED")
                        {
                            var change = Change(pod, type == "DELETED");
                            if (change.Gone)
                            {
                                _known.Remove(change.Key);
                            }
                            else
                            {
                                _known[change.Key] = change.Uid;
                            }

                            onChange(change);
                        }
                    }
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (ApiException e) when (e.Code == 410)
                {
                    resourceVersion = null;
                }
                catch (Exception e) when (e is ApiException or HttpRequestException or IOException or System.Text.Json.JsonException)
                {
                    owner._reportError(node, e);
                    resourceVersion = null;
                    await Task.Delay(WatchRetry, owner._time, token).ConfigureAwait(false);
                }
            }
        }

        private async Task<string> ListAsync(KubernetesKubeletApi owner, string node, Action<PodChange> onChange, CancellationToken token)
        {
            var list = await owner._api.GetAsync(PodsOnNode(node), token).ConfigureAwait(false) ?? [];
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pod in list.Objects("items"))
            {
                var change = Change(pod, gone: false);
                seen.Add(change.Key);
                _known[change.Key] = change.Uid;
                onChange(change);
            }

            foreach (var (key, uid) in _known.Where(k => !seen.Contains(k.Key)).ToList())
            {
                _known.Remove(key);
                var slash = key.IndexOf('/', StringComparison.Ordinal);
                onChange(new PodChange(key[..slash], key[(slash + 1)..], uid, Gone: true, Deleting: true, Terminal: false));
            }

            return list.Str("metadata", "resourceVersion") ?? "0";
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }

            _stop.Dispose();
        }
    }
}
