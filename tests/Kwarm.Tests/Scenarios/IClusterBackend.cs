using k8s;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Nodes;
using Kwarm.Tests.EndToEnd;

namespace Kwarm.Tests.Scenarios;

/// <summary>
/// A cluster with Kwarm installed, on which one scenario definition runs unchanged: the cluster simulator, or a real
/// kube-apiserver, kube-controller-manager and kube-scheduler with the simulator's nodes attached. What a scenario may
/// do is what a platform team can do on any cluster (kubectl, the API as admin, start and stop Kwarm replicas, add
/// nodes, shape the registry the nodes pull from); what only the simulator can show (its audit of every request) is
/// offered where it exists and is null elsewhere.
/// </summary>
public interface IClusterBackend : IAsyncDisposable
{
    /// <summary>What a failure message names: "simulator" or "kube-apiserver v1.24".</summary>
    string Name { get; }

    /// <summary>The cluster admin, as a person running kubectl.</summary>
    IKubernetes Client { get; }

    Kubectl Kubectl { get; }

    /// <summary>The registry every node of this cluster pulls from (missing, slow and private images are set here).</summary>
    ImageRegistry Registry { get; }

    /// <summary>Every API request by user, verb and resource, where the backend records them (the simulator); null elsewhere.</summary>
    RequestAudit? Audit { get; }

    /// <summary>The user Kwarm's replicas authenticate as: service account <c>kwarm-system/kwarm</c>.</summary>
    string KwarmUser { get; }

    IReadOnlyList<KwarmInstance> Replicas { get; }

    /// <summary>
    /// Starts one more Kwarm replica as service account <c>kwarm-system/kwarm</c> and waits until it is ready. The first
    /// one also registers the webhook configuration of <c>deploy/webhook</c> and serves it.
    /// </summary>
    Task<KwarmInstance> StartKwarmAsync(params string[] extraArgs);

    /// <summary>
    /// Starts a second replica. Where the backend audits requests, it connects as service account
    /// <c>kwarm-system/<see cref="StandbyUser"/></c> so the audit tells its calls apart; elsewhere as Kwarm itself.
    /// </summary>
    Task<KwarmInstance> StartStandbyKwarmAsync(params string[] extraArgs);

    /// <summary>The user a standby replica authenticates as.</summary>
    string StandbyUser { get; }

    /// <summary>Sends the webhook's calls to <paramref name="replica"/>, like a Service whose only ready endpoint it is.</summary>
    Task RouteWebhookToAsync(KwarmInstance replica);

    /// <summary>Registers simulated nodes that become Ready (a node joining the cluster).</summary>
    Task AddNodesAsync(IReadOnlyList<NodeSpec> nodes);

    /// <summary>The image references in a node's runtime cache, containerd's names.</summary>
    IReadOnlyCollection<string> CachedImages(string node);

    /// <summary>How many pulls a node's runtime has made (cache hits are not pulls).</summary>
    int PullCount(string node);
}
