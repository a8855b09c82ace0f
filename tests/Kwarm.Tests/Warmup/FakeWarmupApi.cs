using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Warmup;
using Kwarm.Workloads;

namespace Kwarm.Tests.Warmup;

/// <summary>Applies the warm-up's writes to the caches, as an API server and an up-to-date watch would; records them.</summary>
internal sealed class FakeWarmupApi(ResourceCache<V1Node> nodes, ResourceCache<PrePullImage> images) : IWarmupApi
{
    private readonly Lock _lock = new();

    public List<string> Writes { get; } = [];

    public List<Corev1Event> Events { get; } = [];

    /// <summary>When set, the next node patch is refused as a failed <c>test</c> would be (422).</summary>
    public bool RefuseNextPatch { get; set; }

    public Task CreatePrePullImageAsync(PrePullImage image, CancellationToken cancellationToken)
    {
        Record($"create {image.Metadata.NamespaceProperty}/{image.Metadata.Name}");
        images.Upsert(image with { Metadata = Copy(image.Metadata, "1") });
        return Task.CompletedTask;
    }

    public Task DeletePrePullImageAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        Record($"delete {namespaceName}/{name}");
        images.Remove(ResourceKeys.For(namespaceName, name));
        return Task.CompletedTask;
    }

    public Task<bool> PatchNodeAsync(string name, IReadOnlyList<JsonPatchOperation> patch, CancellationToken cancellationToken)
    {
        Record($"patch node {name}: {JsonPatchOperation.SerializeToString(patch)}");
        if (RefuseNextPatch)
        {
            RefuseNextPatch = false;
            return Task.FromResult(false);
        }

        var node = nodes.Get(null, name);
        var remove = patch.Single(op => op.Op == "remove").Path;
        var index = int.Parse(remove[(remove.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        if (node?.Spec?.Taints is not { } taints || index >= taints.Count || taints[index].Key != KwarmApi.WarmingTaintKey)
        {
            return Task.FromResult(false);
        }

        var kept = taints.Where((_, i) => i != index).ToList();
        nodes.Upsert(new V1Node { Metadata = node.Metadata, Spec = new V1NodeSpec { Taints = kept }, Status = node.Status });
        return Task.FromResult(true);
    }

    public Task<bool> CreateEventAsync(Corev1Event nodeEvent, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Events.Any(e => e.Metadata.Name == nodeEvent.Metadata.Name))
            {
                return Task.FromResult(false);
            }

            Events.Add(nodeEvent);
            return Task.FromResult(true);
        }
    }

    private void Record(string write)
    {
        lock (_lock)
        {
            Writes.Add(write);
        }
    }

    private static V1ObjectMeta Copy(V1ObjectMeta metadata, string resourceVersion) => new()
    {
        Name = metadata.Name,
        NamespaceProperty = metadata.NamespaceProperty,
        Labels = metadata.Labels,
        ResourceVersion = resourceVersion,
    };
}
