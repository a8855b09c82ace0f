using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// One node's image store, as containerd keeps it: images are found by their normalised reference
/// (<c>nginx:1.27.1</c> and <c>docker.io/library/nginx:1.27.1</c> are one entry) and by repo digest, and one image
/// (one digest) carries every tag and repo digest it was pulled under.
/// </summary>
internal sealed class NodeImageCache
{
    /// <summary>The kubelet reports at most this many images in <c>node.status.images</c> (its default <c>--node-status-max-images</c>).</summary>
    public const int MaxStatusImages = 50;

    /// <summary>The kubelet reports at most this many names per image (<c>MaxNamesPerImageInNodeStatus</c>).</summary>
    public const int MaxNamesPerImage = 5;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, PullResult> _byReference = new(StringComparer.Ordinal);

    public PullResult? Lookup(string image)
    {
        lock (_lock)
        {
            return _byReference.GetValueOrDefault(ImageReference.Normalize(image));
        }
    }

    /// <summary>Records a pulled image under the reference it was pulled by (normalised) and its repo digest.</summary>
    public void Remember(string image, PullResult pulled)
    {
        lock (_lock)
        {
            _byReference[ImageReference.Normalize(image)] = pulled;
            _byReference[pulled.ImageId] = pulled;
        }
    }

    public IReadOnlyCollection<string> References()
    {
        lock (_lock)
        {
            return [.. _byReference.Keys];
        }
    }

    /// <summary>
    /// <c>node.status.images</c> as a containerd kubelet reports it: one entry per image (digest), its names the repo
    /// digests first and then the tags (at most <see cref="MaxNamesPerImage"/>), the entries largest first, at most
    /// <paramref name="max"/> of them.
    /// </summary>
    public JsonArray StatusImages(int max = MaxStatusImages)
    {
        lock (_lock)
        {
            return new JsonArray([.. _byReference
                .GroupBy(p => p.Value.Digest, StringComparer.Ordinal)
                .Select(image =>
                {
                    var names = image.Select(p => p.Key).ToList();
                    var digests = names.Where(n => n.Contains('@', StringComparison.Ordinal)).Order(StringComparer.Ordinal);
                    var tags = names.Where(n => !n.Contains('@', StringComparison.Ordinal)).Order(StringComparer.Ordinal);
                    return (Names: digests.Concat(tags).Take(MaxNamesPerImage).ToList(), Size: image.First().Value.SizeBytes);
                })
                .OrderByDescending(i => i.Size)
                .ThenBy(i => i.Names[0], StringComparer.Ordinal)
                .Take(max)
                .Select(i => (JsonNode)new JsonObject
                {
                    ["names"] = new JsonArray([.. i.Names.Select(n => (JsonNode)n)]),
                    ["sizeBytes"] = i.Size,
                })]);
        }
    }
}
