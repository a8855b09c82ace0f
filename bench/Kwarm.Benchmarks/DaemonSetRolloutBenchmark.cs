using k8s;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Benchmarks;

/// <summary>One node of a DaemonSet update: its old daemon pod's deletion and its new one's readiness.</summary>
/// <param name="WithoutDaemon">From the old pod's deletion to the new pod Ready; zero when the new one was Ready first.</param>
/// <param name="NewPodPulled">Whether the new pod's kubelet pulled the new image (false: it was already on the node).</param>
internal sealed record NodeGap(string Node, DateTimeOffset OldPodDeleted, DateTimeOffset NewPodReady, TimeSpan WithoutDaemon, bool NewPodPulled);

/// <summary>One DaemonSet update from the image change to every node running a Ready new pod and no old pod left.</summary>
internal sealed record DaemonSetRolloutSample(
    bool WithKwarm,
    TimeSpan Total,
    TimeSpan FirstOldPodDeleted,
    int PrePulls,
    TimeSpan? PrePullLastFinished,
    IReadOnlyList<NodeGap> Nodes)
{
    public int NewPodPulls => Nodes.Count(n => n.NewPodPulled);
}

internal sealed record DaemonSetRolloutResult(DaemonSetRolloutSample Plain, DaemonSetRolloutSample Kwarm, string Machine);

/// <summary>
/// Issue #16's measurement: the same DaemonSet update on two identical fresh simulated clusters, without and with Kwarm,
/// and per node how long the node ran without its daemon. The simulator runs in this process (its pod timeline and
/// pull records are read directly), Kwarm as its own process.
/// </summary>
internal static class DaemonSetRolloutBenchmark
{
    private const long MiB = 1024 * 1024;
    private const string OldImage = "registry.local/bench/agent:1.0";
    private const string NewImage = "registry.local/bench/agent:2.0";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    public static async Task<DaemonSetRolloutResult> RunAsync(DaemonSetRolloutOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("kwarm-bench-daemonset-").FullName;
        var machine = MachineDescription.Describe();
        var plain = await MeasureAsync(options, Path.Combine(work, "plain"), withKwarm: false, output, cancellationToken).ConfigureAwait(false);
        var kwarm = await MeasureAsync(options, Path.Combine(work, "kwarm"), withKwarm: true, output, cancellationToken).ConfigureAwait(false);
        return new DaemonSetRolloutResult(plain, kwarm, machine + $"; load average after the run: {MachineDescription.LoadAverage()}");
    }

    private static async Task<DaemonSetRolloutSample> MeasureAsync(DaemonSetRolloutOptions options, string work, bool withKwarm, TextWriter output, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(work);
        var simulator = new SimulatorOptions
        {
            Nodes = options.Nodes,
            TimeFactor = options.TimeFactor,
            KubeconfigPath = Path.Combine(work, "kubeconfig"),
            RecordEvents = false,
        };
        await using var cluster = await BenchmarkCluster.StartAsync(simulator, work, withKwarm, cancellationToken).ConfigureAwait(false);
        cluster.Simulator.Registry.Add(new RegistryImage(OldImage, options.OldImageMiB * MiB));
        cluster.Simulator.Registry.Add(new RegistryImage(NewImage, options.NewImageMiB * MiB));

        var created = await cluster.Client.AppsV1.CreateNamespacedDaemonSetAsync(BenchmarkDaemonSet.Create(OldImage), BenchmarkDaemonSet.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        var owner = created.Metadata.Uid;
        await BenchmarkCluster.WaitUntilAsync(
            () => DaemonPods(cluster.Simulator, owner).Count(p => p.ReadyAt is not null && p.DeletionRequestedAt is null) == options.Nodes,
            $"a Ready daemon pod of {OldImage} on each of the {options.Nodes} nodes",
            StepTimeout,
            cancellationToken).ConfigureAwait(false);
        if (withKwarm)
        {
            await BenchmarkDaemonSet.WaitUntilKwarmHoldsAsync(cluster.Client, NewImage, cancellationToken).ConfigureAwait(false);
        }

        var oldPods = DaemonPods(cluster.Simulator, owner).ToDictionary(p => p.Uid, StringComparer.Ordinal);
        var changedAt = DateTimeOffset.UtcNow;
        var changed = await BenchmarkDaemonSet.SetImageAsync(cluster.Client, NewImage, cancellationToken).ConfigureAwait(false);
        if (withKwarm != (changed.Spec.UpdateStrategy?.Type == "OnDelete"))
        {
            throw new InvalidOperationException($"the image change {(withKwarm ? "was not held" : "was held without Kwarm")}: update strategy {changed.Spec.UpdateStrategy?.Type}");
        }

        IReadOnlyList<NodeGap>? gaps = null;
        await BenchmarkCluster.WaitUntilAsync(
            () => (gaps = Gaps(cluster.Simulator, owner, oldPods)) is { } found && found.Count == options.Nodes
                && DaemonPods(cluster.Simulator, owner).Where(p => oldPods.ContainsKey(p.Uid)).All(p => p.GoneAt is not null),
            $"the DaemonSet update {(withKwarm ? "with" : "without")} Kwarm",
            StepTimeout,
            cancellationToken).ConfigureAwait(false);

        var lifecycles = DaemonPods(cluster.Simulator, owner).ToList();
        var newPods = lifecycles.Where(p => !oldPods.ContainsKey(p.Uid)).Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
        var newImagePulls = cluster.Simulator.Pulls
            .Where(p => p.RequestedAt >= changedAt && p.Succeeded && ImageRegistry.Normalize(p.Image) == ImageRegistry.Normalize(NewImage)).ToList();
        var prePulls = newImagePulls.Where(p => !newPods.Contains(p.PodUid)).ToList();
        var sample = new DaemonSetRolloutSample(
            withKwarm,
            lifecycles.Select(p => oldPods.ContainsKey(p.Uid) ? p.GoneAt!.Value : p.ReadyAt ?? changedAt).Max() - changedAt,
            lifecycles.Where(p => oldPods.ContainsKey(p.Uid)).Min(p => p.DeletionRequestedAt!.Value) - changedAt,
            prePulls.Count,
            prePulls.Count == 0 ? null : prePulls.Max(p => p.FinishedAt) - changedAt,
            gaps!);
        await output.WriteLineAsync(FormattableString.Invariant(
            $"DaemonSet update {(withKwarm ? "with" : "without")} Kwarm: complete after {sample.Total.TotalMilliseconds:0} ms; per node without the daemon: max {gaps!.Max(g => g.WithoutDaemon).TotalMilliseconds:0} ms; {sample.NewPodPulls} pulls by new pods")).ConfigureAwait(false);
        return sample;
    }

    private static IEnumerable<PodLifecycle> DaemonPods(SimulatedCluster cluster, string owner) =>
        cluster.PodLifecycles.Where(p => p.OwnerUid == owner);

    /// <summary>
    /// Per node whose old pod was deleted and whose new pod is Ready: the gap between the two. Null entries are left out,
    /// so the list is complete once it has a gap for every node.
    /// </summary>
    private static List<NodeGap> Gaps(SimulatedCluster cluster, string owner, Dictionary<string, PodLifecycle> oldPods)
    {
        var pulledBy = cluster.Pulls.Select(p => p.PodUid).ToHashSet(StringComparer.Ordinal);
        var current = DaemonPods(cluster, owner).ToList();
        var gaps = new List<NodeGap>();
        foreach (var old in current.Where(p => oldPods.ContainsKey(p.Uid) && p.DeletionRequestedAt is not null && p.Node is not null))
        {
            var replacement = current.FirstOrDefault(p => !oldPods.ContainsKey(p.Uid) && p.Node == old.Node && p.ReadyAt is not null);
            if (replacement is null)
            {
                continue;
            }

            var without = replacement.ReadyAt!.Value - old.DeletionRequestedAt!.Value;
            gaps.Add(new NodeGap(old.Node!, old.DeletionRequestedAt.Value, replacement.ReadyAt.Value, without < TimeSpan.Zero ? TimeSpan.Zero : without, pulledBy.Contains(replacement.Uid)));
        }

        return gaps;
    }
}
