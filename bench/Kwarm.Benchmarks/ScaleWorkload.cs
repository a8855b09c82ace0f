using System.Globalization;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Benchmarks;

/// <summary>One held Deployment of the scale run: where it lives, which nodes its pods may use, its new images.</summary>
internal sealed record HeldDeployment(string Namespace, string Name, int Pool, IReadOnlyList<RegistryImage> NewImages)
{
    public string Key => $"{Namespace}/{Name}";
}

/// <summary>
/// The scale run's cluster, fixed by its parameters and a seed so every run (and every size of the growth table)
/// is the same workload: nodes in <see cref="Pools"/> pools (label <see cref="PoolLabel"/>), Deployments of one
/// replica, each pinned to a pool by its pod template's nodeSelector and running 1–3 containers; the first
/// <see cref="Held"/> Deployments get new images of 100–600 MB, so a hold targets the nodes of one pool.
/// </summary>
internal sealed class ScaleWorkload
{
    public const string PoolLabel = "bench.kwarm.io/pool";
    public const string Registry = "registry.bench.local";
    public const int Namespaces = 50;
    public const long OldImageBytes = 50L * 1024 * 1024;
    public const long ToolsImageBytes = 20L * 1024 * 1024;

    /// <summary>Kwarm's default --tools-image: the pull Jobs' init container.</summary>
    public const string ToolsImage = "ghcr.io/kwarm-io/kwarm:latest";

    public ScaleWorkload(int nodes, int deployments, int held, int pools, int seed)
    {
        Nodes = nodes;
        Deployments = deployments;
        Held = held;
        Pools = pools;
        var random = new Random(seed);
        HeldDeployments = [.. Enumerable.Range(0, held).Select(index => new HeldDeployment(
            NamespaceOf(index),
            NameOf(index),
            index % pools,
            [.. Enumerable.Range(1, ContainersOf(index)).Select(container => new RegistryImage(
                $"{Registry}/{NameOf(index)}/c{container}:2", (100L + random.Next(0, 501)) * 1024 * 1024))]))];
    }

    public int Nodes { get; }

    public int Deployments { get; }

    public int Held { get; }

    public int Pools { get; }

    public IReadOnlyList<HeldDeployment> HeldDeployments { get; }

    public static IReadOnlyList<string> OldImages => [.. Enumerable.Range(1, 3).Select(container => $"{Registry}/base/c{container}:1")];

    public static string NamespaceOf(int deployment) => $"team-{(deployment % Namespaces).ToString("00", CultureInfo.InvariantCulture)}";

    public static string NameOf(int deployment) => $"app-{deployment.ToString("0000", CultureInfo.InvariantCulture)}";

    public static int ContainersOf(int deployment) => deployment % 3 + 1;

    public static string PoolName(int pool) => $"p{pool.ToString("000", CultureInfo.InvariantCulture)}";

    public string NodeName(int index) => $"node-{(index + 1).ToString("0000", CultureInfo.InvariantCulture)}";

    public int PoolOfNode(int index) => index % Pools;

    /// <summary>Nodes labelled with their pool; the tools image and the old images already on them (no pull at start).</summary>
    public IEnumerable<NodeSpec> NodeSpecs() => Enumerable.Range(0, Nodes).Select(index => new NodeSpec(NodeName(index))
    {
        Labels = new Dictionary<string, string>(StringComparer.Ordinal) { [PoolLabel] = PoolName(PoolOfNode(index)) },
        PreloadedImages = [ToolsImage, .. OldImages],
    });

    public IReadOnlyList<string> NodesOfPool(int pool) => [.. Enumerable.Range(0, Nodes).Where(index => PoolOfNode(index) == pool).Select(NodeName)];

    /// <summary>Nodes a hold targets, averaged over the held Deployments.</summary>
    public double TargetNodesPerHold => HeldDeployments.Average(held => (double)NodesOfPool(held.Pool).Count);

    public double ImagesPerHold => HeldDeployments.Average(held => (double)held.NewImages.Count);

    /// <summary>One pull Job per (image of a hold, node of its pool): the work the caps schedule.</summary>
    public IEnumerable<(string Node, RegistryImage Image)> Pulls() =>
        HeldDeployments.SelectMany(held => NodesOfPool(held.Pool).SelectMany(node => held.NewImages.Select(image => (node, image))));
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
