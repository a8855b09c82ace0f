using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Warmup;

/// <summary>Every API write of the warm-up; reads come from the informers' caches.</summary>
public interface IWarmupApi
{
    /// <summary>Creates the PrePullImage; one that already exists (same deterministic name) counts as created.</summary>
    Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken);

    /// <summary>Deletes it (its Jobs go with it); one already gone counts as deleted.</summary>
    Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken);

    /// <summary>Sends a JSON Patch to a Node; false when a <c>test</c> failed (422) or the node is gone (404).</summary>
    Task<bool> PatchNodeAsync(string name, IReadOnlyList<JsonPatchOperation> patch, CancellationToken cancellationToken);

    /// <summary>Creates the event; false when one of that name exists (recorded before).</summary>
    Task<bool> CreateEventAsync(Corev1Event nodeEvent, CancellationToken cancellationToken);
}
