using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// The kubelet's cluster when it is the simulator's own: pod changes come from the store's commits, and reads and
/// writes go straight to the in-process <see cref="ObjectStore"/> (each completes before it returns), except the
/// Node's registration, which goes through the <see cref="ApiServer"/>'s create path as the kubelet's POST does on a
/// real cluster.
/// </summary>
/// <remarks>
/// Only the registration passes admission: it is the write a mutating webhook for <c>nodes</c> CREATE exists for (a
/// startup taint such as Kwarm's <c>kwarm.io/warming</c>). The kubelet's later writes (status, heartbeats, the
/// removal of the not-ready taint that the node lifecycle controller does on a real cluster) go to the store directly,
/// so webhooks registered for <c>nodes</c> UPDATE do not see them.
/// </remarks>
public sealed class InProcessKubeletApi : IKubeletApi
{
    private readonly SimulationContext _context;
    private readonly ApiServer _apiServer;
    private readonly ConcurrentDictionary<string, Action<PodChange>> _watchers = new(StringComparer.Ordinal);

    public InProcessKubeletApi(SimulationContext context, ApiServer apiServer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(apiServer);
        _context = context;
        _apiServer = apiServer;
        context.Store.Subscribe(OnCommit);
    }

    private ObjectStore Store => _context.Store;

    /// <summary>
    /// The kubelet's POST of its Node, as the node's own user (<c>system:node:NAME</c>): defaults, the not-ready taint,
    /// the mutating webhooks registered for <c>nodes</c> CREATE (their patches applied, their failurePolicy honoured)
    /// and validation. A refusal (a webhook with <c>failurePolicy: Fail</c> that is down or denies) throws the API
    /// server's <see cref="ApiException"/>: the node is not registered.
    /// </summary>
    public Task<JsonObject> RegisterNodeAsync(JsonObject node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var name = node.Str("metadata", "name") ?? "";
        return _apiServer.CreateInProcessAsync(_context.Nodes, "", node, Admission.UserInfo.Node(name), cancellationToken);
    }

    public Task UpdateNodeAsync(string name, Func<JsonObject, bool> change, CancellationToken cancellationToken)
    {
        Store.Mutate(_context.Nodes, "", name, change);
        return Task.CompletedTask;
    }

    public Task RenewLeaseAsync(string node, string nodeUid, string renewTime, int durationSeconds, CancellationToken cancellationToken)
    {
        var updated = Store.Mutate(_context.Leases, "kube-node-lease", node, lease =>
        {
            lease.Obj("spec")["renewTime"] = renewTime;
            return true;
        });
        if (updated is not null)
        {
            return Task.CompletedTask;
        }

        try
        {
            Store.Create(_context.Leases, NodeLease.Create(node, nodeUid, renewTime, durationSeconds));
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // Created concurrently.
        }

        return Task.CompletedTask;
    }

    public IAsyncDisposable WatchPods(string node, Action<PodChange> onChange)
    {
        _watchers[node] = onChange;
        return new Unwatch(() => _watchers.TryRemove(node, out _));
    }

    public Task<JsonObject?> GetPodAsync(string podNamespace, string name, CancellationToken cancellationToken) =>
        Task.FromResult(Store.Get(_context.Pods, podNamespace, name)?.ToNode());

    public Task<IReadOnlyList<JsonObject>> ListPodsAsync(string node, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<JsonObject>>([.. Store.List(_context.Pods, null, p => p.NodeName == node).Items.Select(p => p.ToNode())]);

    public Task UpdatePodStatusAsync(string podNamespace, string name, Func<JsonObject, bool> change, CancellationToken cancellationToken)
    {
        Store.Mutate(_context.Pods, podNamespace, name, change);
        return Task.CompletedTask;
    }

    public Task DeletePodAsync(string podNamespace, string name, string uid, CancellationToken cancellationToken)
    {
        try
        {
            Store.Delete(_context.Pods, podNamespace, name, expectedUid: uid, gracePeriodSeconds: 0);
        }
        catch (ApiException e) when (e.Code is 404 or 409)
        {
            // Already gone, or a new pod of the same name: nothing of ours to confirm.
        }

        return Task.CompletedTask;
    }

    public Task<JsonObject?> GetSecretAsync(string podNamespace, string name, CancellationToken cancellationToken) =>
        Task.FromResult(Store.Get(_context.Secrets, podNamespace, name)?.ToNode());

    public Task RecordEventAsync(JsonObject pod, KubeletEvent evt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(evt);
        _context.RecordEvent(pod, evt.Type, evt.Reason, evt.Message, "kubelet", evt.Node, evt.FieldPath);
        return Task.CompletedTask;
    }

    /// <summary>Runs under the store's lock for every commit: only hands pod changes on.</summary>
    private void OnCommit(StoreEvent change)
    {
        var pod = change.Object;
        if (pod.Type.StorageKey != "pods" || pod.NodeName is null || !_watchers.TryGetValue(pod.NodeName, out var watcher))
        {
            return;
        }

        watcher(new PodChange(pod.Namespace, pod.Name, pod.Uid, change.Type == WatchEventType.Deleted, pod.Deleting, PodStatus.IsTerminal(pod)));
    }

    private sealed class Unwatch(Action stop) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            stop();
            return ValueTask.CompletedTask;
        }
    }
}
