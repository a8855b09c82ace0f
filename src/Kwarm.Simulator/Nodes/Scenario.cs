using System.Text.Json;
using System.Text.Json.Serialization;
using Kwarm.Simulator.Api;
using YamlDotNet.Core;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// A scenario file (JSON, or the same in YAML): nodes to create, the registry catalogue and the faults to inject.
/// <code>
/// { "nodeGroups": [ { "count": 3, "namePrefix": "arm", "architecture": "arm64", "labels": {"pool": "arm"},
///                      "taints": [ {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"} ], "bandwidthBytesPerSecond": 10485760,
///                      "preloadedImages": ["busybox:1.36"] } ],
///   "registry": { "allowUnknownImages": true, "defaultSizeBytes": 52428800,
///                 "images": [ { "reference": "registry.local/app:1", "sizeBytes": 104857600, "private": true, "architectures": ["amd64"] } ] },
///   "faults": { "missing": ["registry.local/app:typo"], "slow": [ { "prefix": "registry.slow/", "factor": 10 } ],
///               "flaky": [ { "reference": "registry.local/app:1", "failures": 2 } ] } }
/// </code>
/// </summary>
public sealed record Scenario
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public IReadOnlyList<NodeGroup> NodeGroups { get; init; } = [];

    public RegistrySection Registry { get; init; } = new();

    public FaultSection Faults { get; init; } = new();

    /// <summary>Reads a scenario file (JSON, or YAML for .yaml/.yml); a bad file is a clear <see cref="InvalidDataException"/>.</summary>
    public static Scenario Load(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            if (path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            {
                return YamlJson.Parse(text).Deserialize<Scenario>(Json) ?? new Scenario();
            }

            return JsonSerializer.Deserialize<Scenario>(text, Json) ?? new Scenario();
        }
        catch (Exception e) when (e is JsonException or YamlException or InvalidCastException)
        {
            throw new InvalidDataException($"scenario {path} is not valid: {e.Message}", e);
        }
    }

    public void ApplyTo(ImageRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AllowUnknownImages = Registry.AllowUnknownImages;
        if (Registry.DefaultSizeBytes is { } size)
        {
            registry.DefaultSizeBytes = size;
        }

        foreach (var image in Registry.Images)
        {
            registry.Add(new RegistryImage(image.Reference, image.SizeBytes, image.Digest, image.Private, image.Architectures, image.ExitCode));
        }

        foreach (var missing in Faults.Missing)
        {
            registry.MarkMissing(missing);
        }

        foreach (var slow in Faults.Slow)
        {
            registry.SetSlow(slow.Prefix, slow.Factor);
        }

        foreach (var flaky in Faults.Flaky)
        {
            registry.SetFlaky(flaky.Reference, flaky.Failures);
        }
    }

    /// <summary>
    /// Refuses node groups whose names collide, with each other or with the <paramref name="defaultNodes"/> default nodes
    /// (<c>node-0001</c>...) created beside them: a clear <see cref="InvalidDataException"/> naming the group, the node
    /// and the way out, instead of a half-started cluster.
    /// </summary>
    public void CheckNodeNames(string path, int defaultNodes)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i <= defaultNodes; i++)
        {
            owners[DefaultNodeName(i)] = $"the {defaultNodes} default nodes (--nodes {defaultNodes}, named node-0001 to {DefaultNodeName(defaultNodes)})";
        }

        for (var index = 0; index < NodeGroups.Count; index++)
        {
            var group = NodeGroups[index];
            var owner = $"node group {index + 1} (namePrefix \"{group.NamePrefix}\")";
            foreach (var name in Enumerable.Range(1, Math.Max(0, group.Count)).Select(i => GroupNodeName(group, i)))
            {
                if (owners.TryGetValue(name, out var taken))
                {
                    var fix = taken.StartsWith("the ", StringComparison.Ordinal)
                        ? "give the group another namePrefix, or start with --nodes 0"
                        : "give each group its own namePrefix";
                    throw new InvalidDataException($"scenario {path}: {owner} would create node {name}, which {taken} already creates: {fix}");
                }

                owners[name] = owner;
            }
        }
    }

    private static string DefaultNodeName(int index) => $"node-{index.ToString("0000", System.Globalization.CultureInfo.InvariantCulture)}";

    private static string GroupNodeName(NodeGroup group, int index) =>
        $"{group.NamePrefix}-{index.ToString("0000", System.Globalization.CultureInfo.InvariantCulture)}";

    public IEnumerable<NodeSpec> Nodes()
    {
        foreach (var group in NodeGroups)
        {
            for (var i = 1; i <= group.Count; i++)
            {
                yield return new NodeSpec(GroupNodeName(group, i))
                {
                    Architecture = group.Architecture,
                    Labels = group.Labels,
                    Taints = [.. group.Taints.Select(t => (t.Key, t.Value, t.Effect))],
                    BandwidthBytesPerSecond = group.BandwidthBytesPerSecond,
                    PreloadedImages = group.PreloadedImages,
                };
            }
        }
    }

    public sealed record NodeGroup
    {
        public int Count { get; init; } = 1;

        public string NamePrefix { get; init; } = "node";

        public string Architecture { get; init; } = "amd64";

        public Dictionary<string, string> Labels { get; init; } = [];

        public IReadOnlyList<TaintEntry> Taints { get; init; } = [];

        public long? BandwidthBytesPerSecond { get; init; }

        public IReadOnlyList<string> PreloadedImages { get; init; } = [];
    }

    public sealed record TaintEntry(string Key, string? Value, string Effect);

    public sealed record RegistrySection
    {
        public bool AllowUnknownImages { get; init; } = true;

        public long? DefaultSizeBytes { get; init; }

        public IReadOnlyList<ImageEntry> Images { get; init; } = [];
    }

    public sealed record ImageEntry(string Reference, long SizeBytes, string? Digest = null, bool Private = false, IReadOnlyList<string>? Architectures = null, int ExitCode = 0);

    public sealed record FaultSection
    {
        public IReadOnlyList<string> Missing { get; init; } = [];

        public IReadOnlyList<SlowEntry> Slow { get; init; } = [];

        public IReadOnlyList<FlakyEntry> Flaky { get; init; } = [];
    }

    public sealed record SlowEntry(string Prefix, double Factor);

    public sealed record FlakyEntry(string Reference, int Failures);
}
