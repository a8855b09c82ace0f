using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// The kubelet's cluster when it is the simulator's own: reads and writes go straight to the in-process
/// <see cref="ObjectStore"/> (each completes before it returns), and pod changes come from the store's commits.
/// </summary>
public sealed class InProcessKubeletApi : IKubeletApi
{
    private readonly SimulationContext _context;
    private readonly ConcurrentDictionary<string, Action<PodChange>> _watchers = new(StringComparer.Ordinal);

    public InProcessKubeletApi(SimulationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        context.Store.Subscribe(OnCommit);
    }

    private ObjectStore Store => _context.Store;

    public Task<JsonObject> RegisterNodeAsync(JsonObject node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);

        // The API server's create path: its defaults and admission (the not-ready taint) apply to a kubelet's POST too.
        BuiltInDefaults.Apply(_context.Nodes, node);
        Admission.NodeTaintAdmission.Apply(node);
        return Task.FromResult(Store.Create(_context.Nodes, node).ToNode());
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
