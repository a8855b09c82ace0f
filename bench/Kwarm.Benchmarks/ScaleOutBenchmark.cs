using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Local;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Benchmarks;

/// <summary>One scale-out, its times counted from the moment the nodes joined and the Deployment was scaled.</summary>
/// <param name="AllReady">Until every replica of the scaled Deployment was Ready.</param>
/// <param name="NewPodCreatedToReady">Per new pod, from its creation to Ready.</param>
/// <param name="NewPodPulls">New pods whose kubelet pulled the image (the simulator's pull log).</param>
/// <param name="NodesPulledByNewPods">Nodes on which a new pod pulled it.</param>
/// <param name="NewPodPullWaits">Per new pod that pulled, how long it waited for the image (queueing behind the node's other pull included).</param>
/// <param name="PrePulls">Pulls of the image by Kwarm's warm-up pull pods.</param>
/// <param name="LastNodeReady">Until the last joining node was Ready (its network started).</param>
/// <param name="LastWarmingLifted">Until Kwarm lifted the last warming taint; null without warm-up.</param>
/// <param name="NewPodsOnJoiningNodes">New pods bound to a joining node (all of them, since the old nodes are full).</param>
/// <param name="MaxConcurrentPulls">Kwarm's <c>--max-concurrent-pulls</c>; null without Kwarm (and warm-up).</param>
internal sealed record ScaleOutSample(
    int? MaxConcurrentPulls,
    TimeSpan AllReady,
    IReadOnlyList<TimeSpan> NewPodCreatedToReady,
    int NewPodPulls,
    int NodesPulledByNewPods,
    IReadOnlyList<TimeSpan> NewPodPullWaits,
    int PrePulls,
    TimeSpan? LastPrePullFinished,
    TimeSpan LastNodeReady,
    TimeSpan? FirstWarmingLifted,
    TimeSpan? LastWarmingLifted,
    int NewPodsOnJoiningNodes);

/// <param name="WarmupUncapped">With warm-up and <c>--max-concurrent-pulls</c> raised to the number of joining nodes, so they all pull at once.</param>
internal sealed record ScaleOutResult(ScaleOutSample Plain, ScaleOutSample Warmup, ScaleOutSample WarmupUncapped, string Machine);

/// <summary>
/// Issue #17's measurement: nodes join while a Deployment whose image is large scales onto them, once with the nodes
/// joining untainted and no Kwarm (the scheduler places the new pods there at once and they pull the image themselves),
/// once with Kwarm and a policy with <c>nodeWarmup</c> enabled and the nodes joining with the warming taint (Kwarm
/// pulls the image there first, then lifts the taint). The simulator runs in this process, Kwarm as its own process.
/// </summary>
/// <remarks>
/// Sizing: the existing nodes have 2 CPUs and the Deployment's pods request 1500m, so each holds one pod; the joining
/// nodes have 4 CPUs, room for two pods and Kwarm's pull pods (100m each). The scaled Deployment fills exactly every
/// node, so where the new pods land is fixed by capacity, not by the scheduler's scoring.
/// </remarks>
internal static class ScaleOutBenchmark
{
    public const string ExistingNodeCpu = "2";
    public const string JoiningNodeCpu = "4";
    public const string PodCpu = "1500m";
    public const string WarmupMaxDuration = "10m";

    /// <summary>Kwarm's own default of <c>--max-concurrent-pulls</c> (DESIGN §5); the run with it passes no flag.</summary>
    public const int DefaultMaxConcurrentPulls = 10;
    private const long MiB = 1024 * 1024;
    private const string Image = "registry.local/bench/web:1.0";
    private const string JoiningPrefix = "new-";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    public static async Task<ScaleOutResult> RunAsync(ScaleOutOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("kwarm-bench-scale-out-").FullName;
        var machine = MachineDescription.Describe();
        var plain = await MeasureAsync(options, Path.Combine(work, "plain"), maxConcurrentPulls: null, output, cancellationToken).ConfigureAwait(false);
        var warmup = await MeasureAsync(options, Path.Combine(work, "warmup"), DefaultMaxConcurrentPulls, output, cancellationToken).ConfigureAwait(false);
        var uncapped = await MeasureAsync(options, Path.Combine(work, "warmup-uncapped"), Math.Max(DefaultMaxConcurrentPulls, options.JoiningNodes), output, cancellationToken).ConfigureAwait(false);
        return new ScaleOutResult(plain, warmup, uncapped, machine + $"; load average after the run: {MachineDescription.LoadAverage()}");
    }

    /// <summary>The basic sample policy with warm-up enabled: docs/warm-nodes.md's example without its extra images.</summary>
    public static PrePullPolicy WarmupPolicy()
    {
        var policy = SimulatedKwarmInstall.Manifest<PrePullPolicy>("prepullpolicy-basic.yaml");
        policy.Spec.NodeWarmup = new NodeWarmupSpec { Enabled = true, MaxDuration = WarmupMaxDuration };
        return policy;
    }

    private static async Task<ScaleOutSample> MeasureAsync(ScaleOutOptions options, string work, int? maxConcurrentPulls, TextWriter output, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(work);
        var warmup = maxConcurrentPulls is not null;
        var kwarm = maxConcurrentPulls is { } cap && cap != DefaultMaxConcurrentPulls
            ? KwarmCommand.Built with { LeadingArguments = [.. KwarmCommand.Built.LeadingArguments, "--max-concurrent-pulls", cap.ToString(CultureInfo.InvariantCulture)] }
            : KwarmCommand.Built;
        var simulator = new SimulatorOptions
        {
            TimeFactor = options.TimeFactor,
            KubeconfigPath = Path.Combine(work, "kubeconfig"),
            RecordEvents = false,
        };
        await using var cluster = await BenchmarkCluster.StartAsync(simulator, work, warmup ? WarmupPolicy() : null, kwarm, cancellationToken).ConfigureAwait(false);
        cluster.Simulator.Registry.Add(new RegistryImage(Image, options.ImageMiB * MiB));
        await cluster.Simulator.AddNodesAsync(
            Enumerable.Range(1, options.Nodes).Select(i => new NodeSpec($"base-{i:000}") { Cpu = ExistingNodeCpu, PreloadedImages = [Image] }),
            cancellationToken).ConfigureAwait(false);
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(
            BenchmarkDeployment.Create(options.ReplicasBefore, Image, PodCpu), BenchmarkDeployment.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        await BenchmarkCluster.WaitUntilAsync(
            () => BenchmarkDeployment.RolloutComplete(cluster.Recorder.Latest, Image) && cluster.Recorder.Latest!.Available == options.ReplicasBefore,
            $"{options.ReplicasBefore} Ready replicas on the existing nodes",
            StepTimeout,
            cancellationToken).ConfigureAwait(false);
        if (warmup)
        {
            await WaitUntilKwarmGovernsAsync(cluster, cancellationToken).ConfigureAwait(false);
        }

        var replicaSets = (await cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(
            BenchmarkDeployment.Namespace, labelSelector: $"{BenchmarkDeployment.AppLabel}={BenchmarkDeployment.Name}", cancellationToken: cancellationToken).ConfigureAwait(false))
            .Items.Select(r => r.Metadata.Uid).ToHashSet(StringComparer.Ordinal);
        var oldPods = WebPods(cluster.Simulator, replicaSets).Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
        var recorder = new JoiningNodeRecorder(cluster.Simulator, JoiningPrefix);
        var warming = (KwarmApi.WarmingTaintKey, (string?)KwarmApi.WarmingTaintValue, KwarmApi.WarmingTaintEffect);
        var joining = Enumerable.Range(1, options.JoiningNodes).Select(i => new NodeSpec($"{JoiningPrefix}{i:000}")
        {
            Cpu = JoiningNodeCpu,
            NetworkReadyAfter = TimeSpan.FromSeconds(options.NetworkReadySeconds),
            Taints = warmup ? [warming] : [],
        }).ToList();

        // The nodes join and the Deployment scales at the same moment, as when an autoscaler answers a load spike.
        var start = DateTimeOffset.UtcNow;
        await cluster.Simulator.AddNodesAsync(joining, cancellationToken).ConfigureAwait(false);
        await cluster.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch(new JsonObject { ["spec"] = new JsonObject { ["replicas"] = options.ReplicasAfter } }.ToJsonString(), V1Patch.PatchType.MergePatch),
            BenchmarkDeployment.Name,
            BenchmarkDeployment.Namespace,
            cancellationToken: cancellationToken).ConfigureAwait(false);

        await BenchmarkCluster.WaitUntilAsync(
            () => WebPods(cluster.Simulator, replicaSets).Count(p => p.ReadyAt is not null && p.DeletionRequestedAt is null) >= options.ReplicasAfter,
            $"{options.ReplicasAfter} Ready replicas {(warmup ? "with" : "without")} warm-up (Kwarm's log: {cluster.Kwarm?.LogPath ?? "none"})",
            StepTimeout,
            cancellationToken).ConfigureAwait(false);
        if (warmup)
        {
            await BenchmarkCluster.WaitUntilAsync(
                () => recorder.Nodes.Count == options.JoiningNodes && recorder.Nodes.All(n => n.WarmingLifted is not null),
                "every warming taint lifted",
                StepTimeout,
                cancellationToken).ConfigureAwait(false);
        }

        var pods = WebPods(cluster.Simulator, replicaSets).Where(p => p.DeletionRequestedAt is null).ToList();
        var newPods = pods.Where(p => !oldPods.Contains(p.Uid)).ToList();
        var newPodUids = newPods.Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
        var imagePulls = cluster.Simulator.Pulls
            .Where(p => p.RequestedAt >= start && p.Succeeded && ImageRegistry.Normalize(p.Image) == ImageRegistry.Normalize(Image)).ToList();
        var byNewPods = imagePulls.Where(p => newPodUids.Contains(p.PodUid)).ToList();
        var prePulls = imagePulls.Where(p => !newPodUids.Contains(p.PodUid)).ToList();
        var nodes = recorder.Nodes;
        var lifted = nodes.Where(n => n.WarmingLifted is not null).Select(n => n.WarmingLifted!.Value - start).ToList();
        var sample = new ScaleOutSample(
            maxConcurrentPulls,
            pods.Max(p => p.ReadyAt!.Value) - start,
            [.. newPods.Select(p => p.ReadyAt!.Value - p.CreatedAt)],
            byNewPods.Count,
            byNewPods.Select(p => p.Node).Distinct(StringComparer.Ordinal).Count(),
            [.. byNewPods.Select(p => p.PodWaited)],
            prePulls.Count,
            prePulls.Count == 0 ? null : prePulls.Max(p => p.FinishedAt) - start,
            nodes.Max(n => n.Ready ?? DateTimeOffset.MaxValue) - start,
            lifted.Count == 0 ? null : lifted.Min(),
            lifted.Count == 0 ? null : lifted.Max(),
            newPods.Count(p => p.Node?.StartsWith(JoiningPrefix, StringComparison.Ordinal) == true));
        await output.WriteLineAsync(FormattableString.Invariant(
            $"Scale-out {(warmup ? $"with warm-up (--max-concurrent-pulls {maxConcurrentPulls})" : "without warm-up")}: {options.ReplicasAfter} Ready after {sample.AllReady.TotalMilliseconds:0} ms; {sample.NewPodPulls} pulls by new pods; {sample.PrePulls} pre-pulls; last taint lifted {sample.LastWarmingLifted?.TotalMilliseconds:0} ms")).ConfigureAwait(false);
        return sample;
    }

    private static IEnumerable<PodLifecycle> WebPods(SimulatedCluster cluster, HashSet<string> replicaSets) =>
        cluster.PodLifecycles.Where(p => p.OwnerUid is { } owner && replicaSets.Contains(owner));

    /// <summary>
    /// A node that joins before Kwarm's caches hold the warm-up policy and the Deployment would have its taint lifted at
    /// once (nothing wants it warm yet). The policy's status is written from those caches: once it counts the
    /// Deployment and its Ready condition has seen the policy's generation, Kwarm knows both.
    /// </summary>
    private static Task WaitUntilKwarmGovernsAsync(BenchmarkCluster cluster, CancellationToken cancellationToken)
    {
        var type = cluster.Simulator.Catalog.Get(KwarmApi.Group, PrePullPolicy.KubePluralName);
        var name = WarmupPolicy().Metadata.Name;
        return BenchmarkCluster.WaitUntilAsync(
            () => cluster.Simulator.Store.Get(type, "", name)?.ToNode() is { } policy
                && policy["status"]?["watchedDeployments"]?.GetValue<int>() >= 1
                && (policy["status"]?["conditions"]?.AsArray() ?? []).Any(c =>
                    c?["type"]?.GetValue<string>() == "Ready" && c["observedGeneration"]?.GetValue<long>() == policy["metadata"]?["generation"]?.GetValue<long>()),
            "the warm-up policy's status to count the Deployment",
            TimeSpan.FromSeconds(60),
            cancellationToken);
    }
}
