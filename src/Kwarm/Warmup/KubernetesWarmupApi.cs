using System.Net;
using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Warmup;

/// <summary><see cref="IWarmupApi"/> over the Kubernetes client, every write through the <see cref="ApiWritePipeline"/>.</summary>
public sealed class KubernetesWarmupApi(IKubernetes client, ApiWritePipeline writes) : IWarmupApi
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

    public async Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        try
        {
            await writes.ExecuteAsync(
                token => client.CustomObjects.DeleteNamespacedCustomObjectAsync(
                    KwarmApi.Group, KwarmApi.Version, namespaceName, PrePullImage.KubePluralName, name, propagationPolicy: "Background", cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (ApiErrors.IsNotFound(exception))
        {
        }
    }

    public async Task<bool> PatchNodeAsync(string name, IReadOnlyList<JsonPatchOperation> patch, CancellationToken cancellationToken)
    {
        var body = new V1Patch(JsonPatchOperation.SerializeToString(patch), V1Patch.PatchType.JsonPatch);
        try
        {
            await writes.ExecuteAsync(token => client.CoreV1.PatchNodeAsync(body, name, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception) when (ApiErrors.StatusCodeOf(exception) is HttpStatusCode.UnprocessableEntity or HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task<bool> CreateEventAsync(Corev1Event nodeEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeEvent);
        try
        {
            await writes.ExecuteAsync(
                token => client.CoreV1.CreateNamespacedEventAsync(nodeEvent, nodeEvent.Metadata.NamespaceProperty, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ApiConflictException conflict) when (conflict.Reason == "AlreadyExists")
        {
            return false;
        }
    }
}
