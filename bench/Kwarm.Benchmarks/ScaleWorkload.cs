using System.Globalization;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Benchmarks;

/// <summary>
/// Which nodes a Deployment's pods may use: nodes carrying <paramref name="Label"/>=<paramref name="Value"/>, or every
/// node when <paramref name="Label"/> is null. <paramref name="Class"/> names the size class in reports.
/// </summary>
internal sealed record NodeTarget(string Class, string? Label, string? Value)
{
    public IReadOnlyDictionary<string, string>? NodeSelector =>
        Label is null ? null : new Dictionary<string, string>(StringComparer.Ordinal) { [Label] = Value! };
}

/// <summary>One held Deployment of the scale run: where it lives, which nodes its pods may use, its new images.</summary>
internal sealed record HeldDeployment(int Index, string Namespace, string Name, NodeTarget Target, IReadOnlyList<RegistryImage> NewImages)
{
    public string Key => $"{Namespace}/{Name}";
}

/// <summary>
/// The scale run's cluster, fixed by its parameters and a seed so every run (and every size of the growth table)
/// is the same workload: nodes in <see cref="Pools"/> pools (label <see cref="PoolLabel"/>), Deployments of one
/// replica, each pinned to a pool by its pod template's nodeSelector and running 1–3 containers; the first
/// <see cref="Held"/> Deployments get new images of 100–600 MB, so a hold targets the nodes of one pool.
/// <para>
/// The storm shape (<c>scale --storm</c>) mixes target sizes as a fleet-wide image bump does: pools of 5 nodes, ten
/// pools make a rack (label <see cref="RackLabel"/>, 50 nodes), a hundred a zone (<see cref="ZoneLabel"/>, 500
/// nodes). The first held Deployment has no nodeSelector (every node, one image); held Deployment <c>i</c> targets a
/// zone when <c>i % 500 == 250</c>, a rack when <c>i % 50 == 10</c>, otherwise its pool. At 5,000 nodes and 1,000
/// holds: 1 × 5,000 nodes, 2 × 500, 20 × 50 and 977 × 5.
/// </para>
/// </summary>
internal sealed class ScaleWorkload
{
    public const string PoolLabel = "bench.kwarm.io/pool";
    public const string RackLabel = "bench.kwarm.io/rack";
    public const string ZoneLabel = "bench.kwarm.io/zone";
    public const string Registry = "registry.bench.local";
    public const int Namespaces = 50;
    public const int PoolsPerRack = 10;
    public const int PoolsPerZone = 100;
    public const long OldImageBytes = 50L * 1024 * 1024;
    public const long ToolsImageBytes = 20L * 1024 * 1024;

    /// <summary>Kwarm's default --tools-image: the pull Jobs' init container.</summary>
    public const string ToolsImage = "ghcr.io/kwarm-io/kwarm:latest";

    private readonly Dictionary<NodeTarget, IReadOnlyList<string>> _nodesOf = [];

    public ScaleWorkload(int nodes, int deployments, int held, int pools, int seed, bool storm = false)
    {
        Nodes = nodes;
        Deployments = deployments;
        Held = held;
        Pools = pools;
        Storm = storm;
        var random = new Random(seed);
        HeldDeployments = [.. Enumerable.Range(0, held).Select(index => new HeldDeployment(
            index,
            NamespaceOf(index),
            NameOf(index),
            TargetOf(index),
            [.. Enumerable.Range(1, ContainersOf(index)).Select(container => new RegistryImage(
                $"{Registry}/{NameOf(index)}/c{container}:2", (100L + random.Next(0, 501)) * 1024 * 1024))]))];
    }

    public int Nodes { get; }

    public int Deployments { get; }

    public int Held { get; }

    public int Pools { get; }

    /// <summary>Mixed target sizes (every node, zones, racks, pools) instead of one pool per Deployment.</summary>
    public bool Storm { get; }

    public IReadOnlyList<HeldDeployment> HeldDeployments { get; }

    public static IReadOnlyList<string> OldImages => [.. Enumerable.Range(1, 3).Select(container => $"{Registry}/base/c{container}:1")];

    public static string NamespaceOf(int deployment) => $"team-{(deployment % Namespaces).ToString("00", CultureInfo.InvariantCulture)}";

    public static string NameOf(int deployment) => $"app-{deployment.ToString("00000", CultureInfo.InvariantCulture)}";

    public static int ContainersOf(int deployment) => deployment % 3 + 1;

    public static string PoolName(int pool) => $"p{pool.ToString("0000", CultureInfo.InvariantCulture)}";

    public static string RackName(int rack) => $"r{rack.ToString("000", CultureInfo.InvariantCulture)}";

    public static string ZoneName(int zone) => $"z{zone.ToString("00", CultureInfo.InvariantCulture)}";

    public string NodeName(int index) => $"node-{(index + 1).ToString("00000", CultureInfo.InvariantCulture)}";

    public int PoolOfNode(int index) => index % Pools;

    private int Racks => Math.Max(1, (Pools + PoolsPerRack - 1) / PoolsPerRack);

    private int Zones => Math.Max(1, (Pools + PoolsPerZone - 1) / PoolsPerZone);

    /// <summary>The nodes Deployment <paramref name="deployment"/>'s pods may use (see the class comment).</summary>
    public NodeTarget TargetOf(int deployment)
    {
        var pool = new NodeTarget("pool", PoolLabel, PoolName(deployment % Pools));
        if (!Storm || deployment >= Held)
        {
            return pool;
        }

        return deployment switch
        {
            0 => new NodeTarget("cluster", null, null),
            _ when deployment % 500 == 250 => new NodeTarget("zone", ZoneLabel, ZoneName(deployment / 500 % Zones)),
            _ when deployment % 50 == 10 => new NodeTarget("rack", RackLabel, RackName(deployment / 50 % Racks)),
            _ => pool,
        };
    }

    /// <summary>Nodes labelled with their pool (and rack and zone); the tools image and the old images already on them (no pull at start).</summary>
    public IEnumerable<NodeSpec> NodeSpecs() => Enumerable.Range(0, Nodes).Select(index => new NodeSpec(NodeName(index))
    {
        Labels = NodeLabels(index),
        PreloadedImages = [ToolsImage, .. OldImages],
    });

    private Dictionary<string, string> NodeLabels(int index)
    {
        var pool = PoolOfNode(index);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [PoolLabel] = PoolName(pool),
            [RackLabel] = RackName(pool / PoolsPerRack),
            [ZoneLabel] = ZoneName(pool / PoolsPerZone),
        };
    }

    public IReadOnlyList<string> NodesOf(NodeTarget target)
    {
        lock (_nodesOf)
        {
            if (!_nodesOf.TryGetValue(target, out var nodes))
            {
                nodes = [.. Enumerable.Range(0, Nodes).Where(index => target.Label is null || NodeLabels(index)[target.Label] == target.Value).Select(NodeName)];
                _nodesOf[target] = nodes;
            }

            return nodes;
        }
    }

    /// <summary>Nodes a hold targets, averaged over the held Deployments.</summary>
    public double TargetNodesPerHold => HeldDeployments.Average(held => (double)NodesOf(held.Target).Count);

    public double ImagesPerHold => HeldDeployments.Average(held => (double)held.NewImages.Count);

    /// <summary>One pull Job per (image of a hold, node it targets): the work the caps schedule.</summary>
    public IEnumerable<(string Node, RegistryImage Image)> Pulls() => HeldDeployments.SelectMany(PullsOf);

    public IEnumerable<(string Node, RegistryImage Image)> PullsOf(HeldDeployment held) =>
        NodesOf(held.Target).SelectMany(node => held.NewImages.Select(image => (node, image)));
}

/// <summary>
/// The shortest pre-pull the caps allow, from the simulator's own time model and nothing else (no API, watch or
/// scheduling latency): each pull Job occupies a slot for its init container's run (the tools image is on every
/// node, <c>IfNotPresent</c>) plus its image pull (size / bandwidth); a node's kubelet pulls one image at a time.
/// The bound is the largest of: all slot time / the cluster-wide cap; one node's slot time / the per-node cap;
/// one node's pulls end to end (serial pulls); the longest single Job.
/// </summary>
internal sealed record IdealSchedule(TimeSpan Value, TimeSpan ClusterCapBound, TimeSpan NodeCapBound, TimeSpan SerialPullBound, TimeSpan LongestJob, int Jobs, TimeSpan MeanJob)
{
    public static IdealSchedule Compute(IEnumerable<(string Node, RegistryImage Image)> pulls, int maxConcurrent, int maxPerNode, TimeSpan initRun, long bandwidthBytesPerSecond, double timeFactor)
    {
        var jobs = pulls.Select(pull =>
        {
            var pullTime = TimeSpan.FromSeconds(pull.Image.SizeBytes / (double)bandwidthBytesPerSecond * timeFactor);
            return (pull.Node, Pull: pullTime, Slot: pullTime + initRun * timeFactor);
        }).ToList();
        if (jobs.Count == 0)
        {
            return new IdealSchedule(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, TimeSpan.Zero);
        }

        var total = jobs.Aggregate(TimeSpan.Zero, (sum, job) => sum + job.Slot);
        var byNode = jobs.GroupBy(job => job.Node, StringComparer.Ordinal).ToList();
        var clusterBound = total / maxConcurrent;
        var nodeBound = byNode.Max(node => node.Aggregate(TimeSpan.Zero, (sum, job) => sum + job.Slot)) / maxPerNode;
        var serialBound = byNode.Max(node => node.Aggregate(TimeSpan.Zero, (sum, job) => sum + job.Pull));
        var longest = jobs.Max(job => job.Slot);
        var value = new[] { clusterBound, nodeBound, serialBound, longest }.Max();
        return new IdealSchedule(value, clusterBound, nodeBound, serialBound, longest, jobs.Count, total / jobs.Count);
    }
}
