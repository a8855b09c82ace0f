using System.Collections.Concurrent;
using k8s;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Benchmarks;

/// <summary>One hold of the release-latency run, every time from the simulator's clock (the bench's own clock too).</summary>
internal sealed record HoldSample(
    int Index,
    DateTimeOffset ChangedAt,
    DateTimeOffset HeldAt,
    int PrePulls,
    DateTimeOffset LastPullFinishedAt,
    DateTimeOffset? PrePullCompletedAt,
    DateTimeOffset ReleasedAt,
    DateTimeOffset? WatchedAt,
    int PodPulls,
    KwarmLogStages Log)
{
    /// <summary>The simulator's write of the unpaused Deployment minus the last node's pull finishing.</summary>
    public TimeSpan ReleaseLatency => ReleasedAt - LastPullFinishedAt;

    /// <summary>The same, to the moment a client's watch of the Deployment received the unpaused object.</summary>
    public TimeSpan? WatchLatency => WatchedAt - LastPullFinishedAt;
}

/// <summary>One rollout from the image change to the last old pod gone, on a fresh cluster with or without Kwarm.</summary>
internal sealed record RolloutSample(
    bool WithKwarm,
    TimeSpan Total,
    TimeSpan? Held,
    int PrePulls,
    TimeSpan? PrePullLastFinished,
    int NewPods,
    int NewPodPulls,
    TimeSpan NewPodPullTotal,
    TimeSpan NewPodPullMax,
    TimeSpan TwoVersions,
    TimeSpan FirstNewReady,
    int MinimumReady);

internal sealed record HoldLifecycleResult(
    IReadOnlyList<HoldSample> Holds,
    IReadOnlyList<RolloutSample> Rollouts,
    string Machine,
    string KwarmLogPath);

/// <summary>
/// Issue #6's measurements: (1) from the last node's pull finishing to the Deployment unpaused, over sequential holds
/// of one Deployment; (2) the same rollout on two identical fresh clusters, without and with Kwarm.
/// The simulator runs in this process (its store is observed directly), Kwarm as its own process.
/// </summary>
internal static class HoldLifecycleBenchmark
{
    private const long MiB = 1024 * 1024;
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);

    public static async Task<HoldLifecycleResult> RunAsync(HoldLifecycleOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("kwarm-bench-holds-").FullName;
        var machine = MachineDescription.Describe();
        var holds = await MeasureHoldsAsync(options, Path.Combine(work, "holds"), output, cancellationToken).ConfigureAwait(false);
        var rollouts = new List<RolloutSample>();
        if (options.Rollouts)
        {
            foreach (var withKwarm in new[] { false, true })
            {
                rollouts.Add(await MeasureRolloutAsync(options, Path.Combine(work, withKwarm ? "rollout-kwarm" : "rollout-plain"), withKwarm, output, cancellationToken).ConfigureAwait(false));
            }
        }

        return new HoldLifecycleResult(holds, rollouts, machine + $"; load average after the run: {MachineDescription.LoadAverage()}", Path.Combine(work, "holds", "kwarm.log"));
    }

    private static SimulatorOptions Simulator(HoldLifecycleOptions options, string work) => new()
    {
        Nodes = options.Nodes,
        TimeFactor = options.TimeFactor,
        KubeconfigPath = Path.Combine(work, "kubeconfig"),
        // Kubelet and controller Event objects are noise here; Kwarm's own Events are written regardless.
        RecordEvents = false,
    };

    private static async Task<IReadOnlyList<HoldSample>> MeasureHoldsAsync(HoldLifecycleOptions options, string work, TextWriter output, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(work);
        await using var cluster = await BenchmarkCluster.StartAsync(Simulator(options, work), work, withKwarm: true, cancellationToken).ConfigureAwait(false);
        var images = Enumerable.Range(0, options.Holds + 1).Select(i => $"registry.local/bench/web:hold-{i}").ToList();
        foreach (var image in images)
        {
            cluster.Simulator.Registry.Add(new RegistryImage(image, options.HoldImageMiB * MiB));
        }

        await cluster.DeployAsync(options.Replicas, images[0], StepTimeout, cancellationToken).ConfigureAwait(false);
        await cluster.WaitUntilKwarmHoldsAsync(images[1], cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Kwarm (pid {cluster.Kwarm!.ProcessId}, log {cluster.Kwarm.LogPath}) holds; {options.Holds} holds one after another on {options.Nodes} nodes").ConfigureAwait(false);

        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watched = new ConcurrentQueue<(DateTimeOffset At, bool Paused, string? Released)>();
        var watching = WatchDeploymentAsync(cluster.Client, watched, stopWatching.Token);

        var changes = new List<(int Index, DateTimeOffset ChangedAt, DeploymentCommit Held, DeploymentCommit Released)>();
        for (var index = 1; index <= options.Holds; index++)
        {
            var changedAt = DateTimeOffset.UtcNow;
            await BenchmarkDeployment.SetImageAsync(cluster.Client, images[index], cancellationToken).ConfigureAwait(false);
            DeploymentCommit? held = null, released = null;
            await BenchmarkCluster.WaitUntilAsync(
                () =>
                {
                    var after = cluster.Recorder.Deployments.Where(d => d.At >= changedAt).ToList();
                    held = after.FirstOrDefault(d => d.Hold is not null && d.Paused && d.Image == images[index]);
                    released = held is null ? null : after.FirstOrDefault(d => d.At >= held.At && d.Released == held.Hold && !d.Paused);
                    return released is not null;
                },
                $"hold {index} to be released",
                StepTimeout,
                cancellationToken).ConfigureAwait(false);
            await BenchmarkCluster.WaitUntilAsync(() => BenchmarkDeployment.RolloutComplete(cluster.Recorder.Latest, images[index]), $"rollout {index}", StepTimeout, cancellationToken).ConfigureAwait(false);
            changes.Add((index, changedAt, held!, released!));
            var latency = released!.At - LastPrePull(cluster, images[index], released.At);
            await output.WriteLineAsync($"hold {index,2}: held {Ms(held!.At - changedAt)} after the change, released {Ms(released.At - held.At)} later, {Ms(latency)} after the last pull").ConfigureAwait(false);
        }

        // Let the watch deliver the last release before it is stopped.
        await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        await stopWatching.CancelAsync().ConfigureAwait(false);
        await watching.ConfigureAwait(false);

        var deploymentPods = cluster.Recorder.Pods.Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
        var pulls = cluster.Simulator.Pulls;
        var log = KwarmLog.Read(cluster.Kwarm.LogPath);
        var samples = new List<HoldSample>();
        foreach (var (index, changedAt, held, released) in changes)
        {
            var image = ImageRegistry.Normalize(images[index]);
            var prePulls = pulls.Where(p => ImageRegistry.Normalize(p.Image) == image && p.Succeeded && !deploymentPods.Contains(p.PodUid)).ToList();
            var podPulls = pulls.Count(p => ImageRegistry.Normalize(p.Image) == image && deploymentPods.Contains(p.PodUid));
            var watchedAt = watched.Where(w => w.At >= held.At && !w.Paused && w.Released == held.Hold).Select(w => (DateTimeOffset?)w.At).FirstOrDefault();
            var nextChange = index < changes.Count ? changes[index].ChangedAt : DateTimeOffset.MaxValue;
            samples.Add(new HoldSample(
                index, changedAt, held.At, prePulls.Count, prePulls.Max(p => p.FinishedAt), PrePullCompleted(cluster.Recorder, held.Hold!), released.At, watchedAt, podPulls,
                log.Stages(changedAt, nextChange, held.Hold!)));
        }

        return samples;
    }

    /// <summary>When the last of the hold's PrePullImages was first written Completed (null if one never was).</summary>
    private static DateTimeOffset? PrePullCompleted(RolloutRecorder recorder, string hold)
    {
        var completions = recorder.PrePullImages.Where(p => p.Hold == hold).GroupBy(p => p.Name, StringComparer.Ordinal)
            .Select(g => g.FirstOrDefault(p => p.Phase == "Completed")?.At).ToList();
        return completions.Count == 0 || completions.Any(c => c is null) ? null : completions.Max();
    }

    private static DateTimeOffset LastPrePull(BenchmarkCluster cluster, string image, DateTimeOffset before)
    {
        var deploymentPods = cluster.Recorder.Pods.Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
        var normalized = ImageRegistry.Normalize(image);
        return cluster.Simulator.Pulls
            .Where(p => ImageRegistry.Normalize(p.Image) == normalized && p.Succeeded && !deploymentPods.Contains(p.PodUid) && p.FinishedAt <= before)
            .Select(p => p.FinishedAt)
            .DefaultIfEmpty(before)
            .Max();
    }

    /// <summary>A client's watch of the Deployment, as kubectl or Argo CD would see the release (restarted if the server ends it).</summary>
    private static async Task WatchDeploymentAsync(k8s.Kubernetes client, ConcurrentQueue<(DateTimeOffset, bool, string?)> seen, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var (_, deployment) in client.AppsV1.WatchListNamespacedDeploymentAsync(
                    BenchmarkDeployment.Namespace, fieldSelector: $"metadata.name={BenchmarkDeployment.Name}", cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    string? released = null;
                    _ = deployment.Metadata.Annotations?.TryGetValue(Resources.KwarmApi.ReleasedAnnotation, out released);
                    seen.Enqueue((DateTimeOffset.UtcNow, deployment.Spec.Paused == true, released));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static async Task<RolloutSample> MeasureRolloutAsync(HoldLifecycleOptions options, string work, bool withKwarm, TextWriter output, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(work);
        const string OldImage = "registry.local/bench/web:1.0";
        const string NewImage = "registry.local/bench/web:2.0";
        await using var cluster = await BenchmarkCluster.StartAsync(Simulator(options, work), work, withKwarm, cancellationToken).ConfigureAwait(false);
        cluster.Simulator.Registry.Add(new RegistryImage(OldImage, options.HoldImageMiB * MiB));
        cluster.Simulator.Registry.Add(new RegistryImage(NewImage, options.RolloutImageMiB * MiB));
        await cluster.DeployAsync(options.Replicas, OldImage, StepTimeout, cancellationToken).ConfigureAwait(false);
        if (withKwarm)
        {
            await cluster.WaitUntilKwarmHoldsAsync(NewImage, cancellationToken).ConfigureAwait(false);
        }

        var changedAt = DateTimeOffset.UtcNow;
        await BenchmarkDeployment.SetImageAsync(cluster.Client, NewImage, cancellationToken).ConfigureAwait(false);
        RolloutTimeline? timeline = null;
        await BenchmarkCluster.WaitUntilAsync(
            () => BenchmarkDeployment.RolloutComplete(cluster.Recorder.Latest, NewImage)
                && (timeline = RolloutTimeline.Analyze(cluster.Recorder.Pods, changedAt, options.Replicas)).CompletedAt is not null,
            $"the rollout {(withKwarm ? "with" : "without")} Kwarm",
            StepTimeout,
            cancellationToken).ConfigureAwait(false);

        var deployments = cluster.Recorder.Deployments.Where(d => d.At >= changedAt).ToList();
        var held = deployments.FirstOrDefault(d => d.Hold is not null && d.Paused);
        var released = held is null ? null : deployments.FirstOrDefault(d => d.Released == held.Hold && !d.Paused);
        var deploymentPods = cluster.Recorder.Pods.Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
        var pulls = cluster.Simulator.Pulls.Where(p => p.RequestedAt >= changedAt && ImageRegistry.Normalize(p.Image) == ImageRegistry.Normalize(NewImage)).ToList();
        var prePulls = pulls.Where(p => !deploymentPods.Contains(p.PodUid)).ToList();
        var podPulls = pulls.Where(p => timeline!.NewPods.Contains(p.PodUid)).ToList();
        var sample = new RolloutSample(
            withKwarm,
            timeline!.CompletedAt!.Value - changedAt,
            released is null ? null : released.At - changedAt,
            prePulls.Count,
            prePulls.Count == 0 ? null : prePulls.Max(p => p.FinishedAt) - changedAt,
            timeline.NewPods.Count,
            podPulls.Count,
            TimeSpan.FromTicks(podPulls.Sum(p => p.PodWaited.Ticks)),
            podPulls.Count == 0 ? TimeSpan.Zero : podPulls.Max(p => p.PodWaited),
            timeline.TwoVersions,
            timeline.FirstNewReadyAt is { } first ? first - changedAt : TimeSpan.Zero,
            timeline.MinimumReady);
        await output.WriteLineAsync($"rollout {(withKwarm ? "with" : "without")} Kwarm: complete after {Ms(sample.Total)}, {sample.NewPodPulls} pulls by new pods, two versions ready at once for {Ms(sample.TwoVersions)}").ConfigureAwait(false);
        return sample;
    }

    private static string Ms(TimeSpan span) => FormattableString.Invariant($"{span.TotalMilliseconds:0} ms");
}
