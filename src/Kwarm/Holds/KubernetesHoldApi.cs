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

    public KubernetesHoldApi(IKubernetes client, ApiWritePipeline writes)
    {
        _client = client;
        _writes = writes;
    }

    public async Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        try
        {
            await _writes.ExecuteAsync(
                token => _client.CustomObjects.CreateNamespacedCustomObjectAsync(
                    image, KwarmApi.Group, KwarmApi.Version, image.Metadata.NamespaceProperty, PrePullImage.KubePluralName, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (ApiConflictException conflict) when (conflict.Reason == "AlreadyExists")
        {
            // Created by an earlier reconcile whose result the cache has not shown yet: the name is deterministic.
        }
    }

    public async Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        try
        {
            await _writes.ExecuteAsync(
                token => _client.CustomObjects.DeleteNamespacedCustomObjectAsync(
                    KwarmApi.Group, KwarmApi.Version, namespaceName, PrePullImage.KubePluralName, name,
                    propagationPolicy: "Background", cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (ApiErrors.IsNotFound(exception))
        {
        }
    }

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

    public async Task<bool> CreateEventAsync(Corev1Event hookEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hookEvent);
        try
        {
            await _writes.ExecuteAsync(
                token => _client.CoreV1.CreateNamespacedEventAsync(hookEvent, hookEvent.Metadata.NamespaceProperty, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ApiConflictException conflict) when (conflict.Reason == "AlreadyExists")
        {
            return false;
        }
    }

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
