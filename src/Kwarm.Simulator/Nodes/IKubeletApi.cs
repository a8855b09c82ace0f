using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// Everything a simulated kubelet reads from and writes to its cluster, and nothing else: the one seam between the
/// kubelet's behaviour (<see cref="Kubelet"/>) and where the cluster lives. Two implementations: the simulator's own
/// in-process store (<see cref="InProcessKubeletApi"/>) and any API server reached through a kubeconfig
/// (<see cref="Attached.KubernetesKubeletApi"/>). Objects travel as JSON, exactly as the API serves them.
/// </summary>
public interface IKubeletApi
{
    /// <summary>
    /// Registers a Node (status included, as a kubelet's first POST does) and returns the stored object, with the
    /// API server's admission applied: the <c>node.kubernetes.io/not-ready</c> taint, then any mutating webhook
    /// registered for <c>nodes</c> CREATE (e.g. one adding a startup taint). An implementation may take over a Node
    /// its own earlier run registered; the object returned then lists the images that node had.
    /// </summary>
    Task<JsonObject> RegisterNodeAsync(JsonObject node, CancellationToken cancellationToken);

    /// <summary>
    /// Reads a Node, lets <paramref name="change"/> edit spec and status (false: leave it), and writes what changed,
    /// retrying on conflicts. Nothing happens when the Node is gone.
    /// </summary>
    Task UpdateNodeAsync(string name, Func<JsonObject, bool> change, CancellationToken cancellationToken);

    /// <summary>Renews (or creates) the node's Lease in <c>kube-node-lease</c>.</summary>
    Task RenewLeaseAsync(string node, string nodeUid, string renewTime, int durationSeconds, CancellationToken cancellationToken);

    /// <summary>
    /// Reports the pods bound to <paramref name="node"/> to <paramref name="onChange"/>: those there now, then every
    /// change, until disposed. <paramref name="onChange"/> may be called where blocking is not allowed: it must only
    /// take note and return.
    /// </summary>
    IAsyncDisposable WatchPods(string node, Action<PodChange> onChange);

    Task<JsonObject?> GetPodAsync(string podNamespace, string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<JsonObject>> ListPodsAsync(string node, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the pod, lets <paramref name="change"/> edit it (false: leave it) and writes its <c>status</c> through
    /// <c>pods/status</c>, retrying on conflicts. Nothing happens when the pod is gone.
    /// </summary>
    Task UpdatePodStatusAsync(string podNamespace, string name, Func<JsonObject, bool> change, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the pod with <c>gracePeriodSeconds=0</c> and a uid precondition: the kubelet's confirmation that the
    /// containers of a pod being deleted have stopped. A pod already gone, or replaced by a new one, is left alone.
    /// </summary>
    Task DeletePodAsync(string podNamespace, string name, string uid, CancellationToken cancellationToken);

    Task<JsonObject?> GetSecretAsync(string podNamespace, string name, CancellationToken cancellationToken);

    /// <summary>Records a core/v1 Event about a pod from the kubelet of <c>evt.Node</c>; repeats are counted on one Event.</summary>
    Task RecordEventAsync(JsonObject pod, KubeletEvent evt, CancellationToken cancellationToken);
}
