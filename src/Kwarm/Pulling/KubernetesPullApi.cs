using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>The pull engine's writes through the Kubernetes client and the shared <see cref="ApiWritePipeline"/>.</summary>
public sealed class KubernetesPullApi : IPullApi
{
    private readonly IKubernetes _client;
    private readonly ApiWritePipeline _writes;

    public KubernetesPullApi(IKubernetes client, ApiWritePipeline writes)
    {
        _client = client;
        _writes = writes;
    }

    public Task<V1Job> CreateJobAsync(V1Job job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return _writes.ExecuteAsync(
            token => _client.BatchV1.CreateNamespacedJobAsync(job, job.Metadata.NamespaceProperty, cancellationToken: token),
            cancellationToken);
    }

    public async Task DeleteJobAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        try
        {
            await _writes.ExecuteAsync(
                token => _client.BatchV1.DeleteNamespacedJobAsync(
                    name, namespaceName, new V1DeleteOptions { PropagationPolicy = "Background" }, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException exception) when (ApiErrors.IsNotFound(exception))
        {
        }
    }

    public async Task<PrePullImage> ReplaceStatusAsync(PrePullImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = await _writes.ExecuteAsync(
            token => _client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(
                image, PrePullImage.KubeGroup, PrePullImage.KubeVersion, image.Metadata.NamespaceProperty, PrePullImage.KubePluralName,
                image.Metadata.Name, cancellationToken: token),
            cancellationToken).ConfigureAwait(false);
        return result is JsonElement element
            ? KwarmJson.Deserialize<PrePullImage>(element) ?? throw new InvalidDataException("The status write answered with an empty body")
            : throw new InvalidDataException($"The status write answered with {result?.GetType().Name ?? "nothing"}, not a JSON object");
    }

    public async Task DeletePrePullImageAsync(string namespaceName, string name, string uid, CancellationToken cancellationToken)
    {
        try
        {
            await _writes.ExecuteAsync(
                token => _client.CustomObjects.DeleteNamespacedCustomObjectAsync(
                    PrePullImage.KubeGroup, PrePullImage.KubeVersion, namespaceName, PrePullImage.KubePluralName, name,
                    new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = uid }, PropagationPolicy = "Background" },
                    cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException exception) when (ApiErrors.IsNotFound(exception))
        {
        }
        catch (ApiConflictException)
        {
            // The precondition failed: a new object of that name exists, and it is not ours to delete.
        }
    }
}
