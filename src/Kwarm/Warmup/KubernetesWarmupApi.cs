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
    private readonly KwarmObjectWrites _objects = new(client, writes);

    public Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken) => _objects.CreatePrePullImageAsync(image, cancellationToken);

    public Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken) =>
        _objects.DeletePrePullImageAsync(namespaceName, name, cancellationToken);

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

    public Task<bool> CreateEventAsync(Corev1Event nodeEvent, CancellationToken cancellationToken) => _objects.CreateEventAsync(nodeEvent, cancellationToken);
}
