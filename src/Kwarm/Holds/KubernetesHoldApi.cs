using System.Net;
using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary><see cref="IHoldApi"/> over the Kubernetes client, every write through the <see cref="ApiWritePipeline"/>.</summary>
public sealed class KubernetesHoldApi : IHoldApi
{
    private readonly IKubernetes _client;
    private readonly ApiWritePipeline _writes;
    private readonly KwarmObjectWrites _objects;

    public KubernetesHoldApi(IKubernetes client, ApiWritePipeline writes)
    {
        _client = client;
        _writes = writes;
        _objects = new KwarmObjectWrites(client, writes);
    }

    public Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken) => _objects.CreatePrePullImageAsync(image, cancellationToken);

    public Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken) =>
        _objects.DeletePrePullImageAsync(namespaceName, name, cancellationToken);

    /// <summary>A Deployment's patch (<see cref="PatchWorkloadAsync"/>).</summary>
    public Task<bool> PatchDeploymentAsync(string namespaceName, string name, IReadOnlyList<JsonPatchOperation> patch, CancellationToken cancellationToken) =>
        PatchWorkloadAsync(WorkloadKind.Deployment, namespaceName, name, patch, cancellationToken);

    public async Task<bool> PatchWorkloadAsync(WorkloadKind kind, string namespaceName, string name, IReadOnlyList<JsonPatchOperation> patch, CancellationToken cancellationToken)
    {
        var body = new V1Patch(JsonPatchOperation.SerializeToString(patch), V1Patch.PatchType.JsonPatch);
        try
        {
            await _writes.ExecuteAsync<object>(
                async token => kind switch
                {
                    WorkloadKind.StatefulSet => await _client.AppsV1.PatchNamespacedStatefulSetAsync(body, name, namespaceName, cancellationToken: token).ConfigureAwait(false),
                    WorkloadKind.DaemonSet => await _client.AppsV1.PatchNamespacedDaemonSetAsync(body, name, namespaceName, cancellationToken: token).ConfigureAwait(false),
                    _ => await _client.AppsV1.PatchNamespacedDeploymentAsync(body, name, namespaceName, cancellationToken: token).ConfigureAwait(false),
                },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception) when (ApiErrors.StatusCodeOf(exception) is HttpStatusCode.UnprocessableEntity or HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public Task<bool> CreateEventAsync(Corev1Event hookEvent, CancellationToken cancellationToken) => _objects.CreateEventAsync(hookEvent, cancellationToken);

    public async Task PatchPolicyStatusAsync(string name, PrePullPolicyStatus status, CancellationToken cancellationToken)
    {
        // A merge patch of the whole status: lists (conditions) are replaced whole, absent fields untouched.
        var body = new V1Patch(KwarmJson.Serialize(new PolicyStatusPatch(status)), V1Patch.PatchType.MergePatch);
        try
        {
            await _writes.ExecuteAsync(
                token => _client.CustomObjects.PatchClusterCustomObjectStatusAsync(
                    body, KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, name, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (ApiErrors.IsNotFound(exception))
        {
        }
    }
}
