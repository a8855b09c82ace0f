using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>Every API write of the hold and policy-status controllers; reads come from the informers' caches.</summary>
public interface IHoldApi
{
    /// <summary>Creates the PrePullImage; one that already exists (same deterministic name) counts as created.</summary>
    Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken);

    /// <summary>Deletes it (its Jobs go with it by owner garbage collection); one already gone counts as deleted.</summary>
    Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken);

    /// <summary>
    /// Sends a JSON Patch (the release, the start record) to a Deployment, StatefulSet or DaemonSet. False when the API
    /// server refused it because a <c>test</c> failed (422: the hold changed under us) or the workload is gone (404): the
    /// caller re-reads and decides again.
    /// </summary>
    Task<bool> PatchWorkloadAsync(WorkloadKind kind, string namespaceName, string name, IReadOnlyList<JsonPatchOperation> patch, CancellationToken cancellationToken);

    /// <summary>Creates the event; false when an event of that name already exists (it was recorded before).</summary>
    Task<bool> CreateEventAsync(Corev1Event hookEvent, CancellationToken cancellationToken);

    /// <summary>Replaces the policy's status through the status subresource; a policy already gone is ignored.</summary>
    Task PatchPolicyStatusAsync(string name, PrePullPolicyStatus status, CancellationToken cancellationToken);
}
