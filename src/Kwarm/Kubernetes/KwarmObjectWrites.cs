using k8s;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Kubernetes;

/// <summary>
/// The writes the hold controller and the node warm-up both make, each through the <see cref="ApiWritePipeline"/>:
/// PrePullImages created under a deterministic name and deleted in the background, and Events created under a
/// deterministic name. An object already there (created by an earlier pass whose result the cache has not shown yet,
/// or by the replica that led before a failover) is the outcome wanted, not an error.
/// </summary>
public sealed class KwarmObjectWrites(IKubernetes client, ApiWritePipeline writes)
{
    public async Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        try
        {
            await writes.ExecuteAsync(
                token => client.CustomObjects.CreateNamespacedCustomObjectAsync(
                    image, KwarmApi.Group, KwarmApi.Version, image.Metadata.NamespaceProperty, PrePullImage.KubePluralName, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (ApiConflictException conflict) when (conflict.Reason == "AlreadyExists")
        {
        }
    }

    /// <summary>Deletes a PrePullImage; its Jobs go with it by garbage collection. One already gone is fine.</summary>
    public async Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        try
        {
            await writes.ExecuteAsync(
                token => client.CustomObjects.DeleteNamespacedCustomObjectAsync(
                    KwarmApi.Group, KwarmApi.Version, namespaceName, PrePullImage.KubePluralName, name,
                    propagationPolicy: "Background", cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (ApiErrors.IsNotFound(exception))
        {
        }
    }

    /// <returns>False when an Event of that name already exists: it was recorded before.</returns>
    public async Task<bool> CreateEventAsync(Corev1Event recorded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        try
        {
            await writes.ExecuteAsync(
                token => client.CoreV1.CreateNamespacedEventAsync(recorded, recorded.Metadata.NamespaceProperty, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ApiConflictException conflict) when (conflict.Reason == "AlreadyExists")
        {
            return false;
        }
    }
}
