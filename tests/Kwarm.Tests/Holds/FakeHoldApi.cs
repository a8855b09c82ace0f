using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Holds;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Holds;

/// <summary>
/// The API server as the hold controller sees it. PrePullImage and policy writes land in the world's caches at
/// once; Deployment patches are applied to <see cref="ServerDeployments"/> (the server's truth, which a test can
/// move ahead of the cache) with real JSON Patch <c>test</c> semantics, then copied into the cache. StatefulSet and
/// DaemonSet patches are applied to <see cref="ServerWorkloads"/> by the independent <see cref="Admission.JsonPatchApplier"/>
/// over the objects' JSON, so a wrong path or a <c>remove</c> of an absent field is refused as by a real server. Event names
/// are unique like in a real server: a second create of the same name is refused.
/// </summary>
internal sealed class FakeHoldApi : IHoldApi
{
    private readonly HoldWorld _world;
    private readonly HashSet<string> _eventNames = new(StringComparer.Ordinal);
    private int _uid;

    public FakeHoldApi(HoldWorld world) => _world = world;

    public Dictionary<string, V1Deployment> ServerDeployments { get; } = new(StringComparer.Ordinal);

    /// <summary>StatefulSets and DaemonSets as the server stores them, by hold-controller key (<see cref="WorkloadKeys"/>).</summary>
    public Dictionary<string, JsonObject> ServerWorkloads { get; } = new(StringComparer.Ordinal);

    /// <summary>Every patch sent, with the kind it was sent to.</summary>
    public List<(WorkloadKind Kind, IReadOnlyList<JsonPatchOperation> Patch)> KindedPatches { get; } = [];

    public List<PrePullImage> Created { get; } = [];

    public List<string> Deleted { get; } = [];

    /// <summary>Every patch sent, accepted or refused.</summary>
    public List<IReadOnlyList<JsonPatchOperation>> Patches { get; } = [];

    public int RefusedPatches { get; private set; }

    /// <summary>While set, accepted Deployment patches reach only the server, not the cache (a watch that lags).</summary>
    public bool DeploymentWatchLags { get; set; }

    /// <summary>Events the server stored (duplicates excluded).</summary>
    public List<Corev1Event> Events { get; } = [];

    public int DuplicateEventCreates { get; private set; }

    public List<(string Policy, PrePullPolicyStatus Status)> PolicyStatusWrites { get; } = [];

    public Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken)
    {
        Created.Add(image);
        if (_world.PrePullImages.Get(ResourceKeys.For(image)) is null)
        {
            var stored = image with
            {
                Metadata = KubernetesJson.Deserialize<V1ObjectMeta>(KubernetesJson.Serialize(image.Metadata)),
            };
            stored.Metadata.Uid = "ppi-" + Interlocked.Increment(ref _uid);
            stored.Metadata.CreationTimestamp = _world.Time.GetUtcNow().UtcDateTime;
            _world.PrePullImages.Upsert(stored);
        }

        return Task.CompletedTask;
    }

    public Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        Deleted.Add(name);
        _world.PrePullImages.Remove(ResourceKeys.For(namespaceName, name));
        return Task.CompletedTask;
    }

    public Task<bool> PatchWorkloadAsync(WorkloadKind kind, string namespaceName, string name, IReadOnlyList<JsonPatchOperation> patch, CancellationToken cancellationToken)
    {
        KindedPatches.Add((kind, patch));
        return kind == WorkloadKind.Deployment
            ? PatchDeploymentAsync(namespaceName, name, patch)
            : Task.FromResult(PatchJson(kind, namespaceName, name, patch));
    }

    private bool PatchJson(WorkloadKind kind, string namespaceName, string name, IReadOnlyList<JsonPatchOperation> patch)
    {
        Patches.Add(patch);
        var key = WorkloadKeys.For(kind, namespaceName, name);
        if (!ServerWorkloads.TryGetValue(key, out var current))
        {
            RefusedPatches++;
            return false;
        }

        JsonObject updated;
        try
        {
            updated = Admission.JsonPatchApplier.Apply(current, JsonNode.Parse(JsonPatchOperation.SerializeToString(patch))!.AsArray()).AsObject();
        }
        catch (InvalidOperationException)
        {
            // RFC 6902: one failed operation and the whole document is rejected (422), nothing applied.
            RefusedPatches++;
            return false;
        }

        ServerWorkloads[key] = updated;
        if (!DeploymentWatchLags)
        {
            _world.UpsertCached(kind, updated);
        }

        return true;
    }

    private Task<bool> PatchDeploymentAsync(string namespaceName, string name, IReadOnlyList<JsonPatchOperation> patch)
    {
        Patches.Add(patch);
        var key = ResourceKeys.For(namespaceName, name);
        if (!ServerDeployments.TryGetValue(key, out var current))
        {
            RefusedPatches++;
            return Task.FromResult(false);
        }

        var updated = Copy(current);
        updated.Metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var operation in patch)
        {
            if (!Apply(updated, operation))
            {
                // RFC 6902: one failed operation and the whole document is rejected (422), nothing applied.
                RefusedPatches++;
                return Task.FromResult(false);
            }
        }

        ServerDeployments[key] = updated;
        if (!DeploymentWatchLags)
        {
            _world.Deployments.Upsert(Copy(updated));
        }

        return Task.FromResult(true);
    }

    public Task<bool> CreateEventAsync(Corev1Event hookEvent, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_eventNames.Add(hookEvent.Metadata.Name))
        {
            DuplicateEventCreates++;
            return Task.FromResult(false);
        }

        Events.Add(hookEvent);
        return Task.FromResult(true);
    }

    public Task PatchPolicyStatusAsync(string name, PrePullPolicyStatus status, CancellationToken cancellationToken)
    {
        PolicyStatusWrites.Add((name, status));
        if (_world.Policies.Get(name) is { } policy)
        {
            _world.Policies.Upsert(policy with { Status = status });
        }

        return Task.CompletedTask;
    }

    public static V1Deployment Copy(V1Deployment deployment) => KubernetesJson.Deserialize<V1Deployment>(KubernetesJson.Serialize(deployment));

    private static bool Apply(V1Deployment deployment, JsonPatchOperation operation)
    {
        const string annotations = "/metadata/annotations/";
        if (operation.Path == "/spec/paused")
        {
            if (operation.Op is not ("replace" or "add") || operation.Value is not bool paused)
            {
                throw new InvalidOperationException($"unexpected {operation.Op} of /spec/paused");
            }

            deployment.Spec.Paused = paused;
            return true;
        }

        if (!operation.Path.StartsWith(annotations, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the release patch touched " + operation.Path);
        }

        var key = operation.Path[annotations.Length..].Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
        var map = deployment.Metadata.Annotations;
        switch (operation.Op)
        {
            case "test":
                return map.TryGetValue(key, out var actual) && actual == (string?)operation.Value;
            case "remove":
                return map.Remove(key);
            case "add":
                map[key] = (string)operation.Value!;
                return true;
            default:
                throw new InvalidOperationException("unexpected op " + operation.Op);
        }
    }
}
