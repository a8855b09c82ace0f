using System.Globalization;
using System.Text;

namespace Kwarm.Benchmarks;

/// <summary>Renders the hold-lifecycle result as the <c>## Hold lifecycle</c> section of docs/benchmarks.md.</summary>
internal static class HoldLifecycleReport
{
    public const double TargetMedianMs = 500;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(HoldLifecycleOptions options, HoldLifecycleResult result)
    {
        var holds = result.Holds;
        var latency = Summary.Of(holds.Select(h => h.ReleaseLatency.TotalMilliseconds));
        var watch = Summary.Of(holds.Where(h => h.WatchLatency is not null).Select(h => h.WatchLatency!.Value.TotalMilliseconds));
        var met = latency.Median <= TargetMedianMs;
        var text = new StringBuilder();
        text.AppendLine(HoldLifecycleCommand.Heading).AppendLine();
        text.AppendLine(Invariant, $"Target (DESIGN §9): from the last node finishing its pull to the Deployment unpaused, median ≤ {TargetMedianMs:0} ms. ")
            .AppendLine(Invariant, $"**Result: {(met ? "met" : "not met")}** — median {latency.Median:0} ms, p90 {latency.P90:0} ms, max {latency.Max:0} ms over {holds.Count} holds.").AppendLine();
        text.AppendLine("Command:").AppendLine().AppendLine("```bash")
            .AppendLine(Invariant, $"dotnet run -c Release --project bench/Kwarm.Benchmarks -- holds --holds {options.Holds} --nodes {options.Nodes} --replicas {options.Replicas} --time-factor {options.TimeFactor} --hold-image-mib {options.HoldImageMiB} --rollout-image-mib {options.RolloutImageMiB}{(options.Rollouts ? "" : " --no-rollouts")}")
            .AppendLine("```").AppendLine();
        text.AppendLine(Invariant, $"What it does: starts the cluster simulator in the benchmark's process ({options.Nodes} nodes, time factor {options.TimeFactor}: every modelled duration, " +
            $"pulls at 100 MiB/s per node and container starts, takes {options.TimeFactor} of its time; Kwarm's and the API's own latencies are real), installs Kwarm as the README's guided run does " +
            $"(CRDs and webhook configuration from `deploy/`, Kwarm as its own process via `KwarmProcess`, the basic sample policy) and creates one opted-in Deployment " +
            $"of {options.Replicas} replicas. It then changes the image {options.Holds} times, **one hold at a time** (each a new {options.HoldImageMiB} MiB image, so every node pulls; " +
            $"the next change waits for the previous rollout to complete), with Kwarm's defaults (10 pulls at once, 2 per node). " +
            $"The pull's end is the simulated kubelet's own record (`SimulatedCluster.Pulls`: the last pull Job pod's pull of that image to finish); the unpause is timed when the " +
            $"simulator's store commits the Deployment with `spec.paused: false` and `kwarm.io/released`, and again when a KubernetesClient watch of the Deployment in the benchmark's process receives it. " +
            $"All times come from one clock (the simulator runs on `TimeProvider.System`, Kwarm's log stamps are UTC from the same machine).").AppendLine();
        text.AppendLine("Percentiles are nearest-rank (the median of 20 is the 10th smallest).").AppendLine();
        text.AppendLine("| measure (ms) | median | p90 | max |").AppendLine("| --- | ---: | ---: | ---: |");
        Row(text, "last pull finished → Deployment unpaused (simulator's write)", latency);
        Row(text, "last pull finished → unpaused Deployment received by a watch", watch);
        Row(text, "image change → held (webhook's patch written)", Summary.Of(holds.Select(h => (h.HeldAt - h.ChangedAt).TotalMilliseconds)));
        Row(text, "held → released (pre-pull on every node)", Summary.Of(holds.Select(h => (h.ReleasedAt - h.HeldAt).TotalMilliseconds)));
        text.AppendLine();

        text.AppendLine("Where the release latency goes: the simulator's commits of the PrePullImage status and of the release, and Kwarm's own log lines (millisecond stamps):").AppendLine();
        text.AppendLine("| step (ms) | median | p90 | max |").AppendLine("| --- | ---: | ---: | ---: |");
        Row(text, "last pull finished (kubelet) → PrePullImage status `Completed` written (pull engine)", Summary.Of(holds.Select(h => h.PrePullCompletedAt - h.LastPullFinishedAt).OfType<TimeSpan>().Select(span => span.TotalMilliseconds)));
        Row(text, "PrePullImage `Completed` written → release written (hold controller)", Summary.Of(holds.Select(h => h.ReleasedAt - h.PrePullCompletedAt).OfType<TimeSpan>().Select(span => span.TotalMilliseconds)));
        Row(text, "last pull finished → Kwarm logs that node's attempt finished", Stage(holds, h => h.Log.LastNodeFinished - h.LastPullFinishedAt));
        Row(text, "Kwarm logs the PrePullImage `Completed` → Kwarm logs the release (after the API server's answer)", Stage(holds, h => h.Log.Released - h.Log.Completed));
        Row(text, "release written → Kwarm's release log line", Stage(holds, h => h.Log.Released - h.ReleasedAt));
        text.AppendLine();

        text.AppendLine(Invariant, $"- Each hold, last pull finished → unpaused (ms, in order): {string.Join(", ", holds.Select(h => h.ReleaseLatency.TotalMilliseconds.ToString("0", Invariant)))}.");
        text.AppendLine(Invariant, $"- Histogram: {Histogram(holds.Select(h => h.ReleaseLatency.TotalMilliseconds).ToList())}.");
        text.AppendLine(Invariant, $"- Pre-pulls per hold: {Distinct(holds.Select(h => h.PrePulls))} (of {options.Nodes} nodes); image pulls by the Deployment's new pods after the releases: {holds.Sum(h => h.PodPulls)}.");
        var missingLog = holds.Count(h => h.Log.LastNodeFinished is null || h.Log.Completed is null || h.Log.Released is null);
        if (missingLog > 0)
        {
            text.AppendLine(Invariant, $"- {missingLog} of {holds.Count} holds lacked one of the three log lines and are left out of the step table.");
        }

        if (result.Rollouts.Count == 2)
        {
            RenderRollouts(text, options, result.Rollouts[0], result.Rollouts[1]);
        }

        text.AppendLine();
        text.AppendLine(Invariant, $"- Machine: {result.Machine}.");
        text.AppendLine(Invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on the shared machine: the simulator, Kwarm and whatever else ran (see the load averages) share the two cores, so the tails carry their noise.");
        return text.ToString();
    }

    private static void RenderRollouts(StringBuilder text, HoldLifecycleOptions options, RolloutSample plain, RolloutSample kwarm)
    {
        text.AppendLine().AppendLine("### Rollout with and without Kwarm").AppendLine();
        text.AppendLine(Invariant, $"The same Deployment ({options.Replicas} replicas, rolling update with the defaults maxSurge 25% / maxUnavailable 25%) on two identical fresh simulated clusters " +
            $"of {options.Nodes} nodes, one without Kwarm and one with it installed as above, changed from a {options.HoldImageMiB} MiB image to a new {options.RolloutImageMiB} MiB one " +
            $"(a {options.RolloutImageMiB / 100.0:0.#} s pull at 100 MiB/s, {options.RolloutImageMiB / 100.0 * options.TimeFactor:0.##} s at time factor {options.TimeFactor}). " +
            $"Times run from the image change, on the simulator's commits: complete = every new pod Ready and the last old pod deleted; " +
            $"pulling = from a new pod's kubelet asking for the image to the image being there (queueing behind another pull on the node included); " +
            $"two versions = time during which both ReplicaSets had Ready pods.").AppendLine();
        text.AppendLine("| measure | without Kwarm | with Kwarm |").AppendLine("| --- | ---: | ---: |");
        text.AppendLine(Invariant, $"| image change → rollout complete | {Seconds(plain.Total)} | {Seconds(kwarm.Total)} |");
        text.AppendLine(Invariant, $"| image change → hold released | — | {(kwarm.Held is { } held ? Seconds(held) : "not held")} |");
        text.AppendLine(Invariant, $"| image change → last pre-pull finished | — | {(kwarm.PrePullLastFinished is { } pre ? Seconds(pre) : "none")} |");
        text.AppendLine(Invariant, $"| image change → first new pod Ready | {Seconds(plain.FirstNewReady)} | {Seconds(kwarm.FirstNewReady)} |");
        text.AppendLine(Invariant, $"| pre-pulls by Kwarm's pull Jobs | {plain.PrePulls} | {kwarm.PrePulls} |");
        text.AppendLine(Invariant, $"| new pods that pulled the image | {plain.NewPodPulls} of {plain.NewPods} | {kwarm.NewPodPulls} of {kwarm.NewPods} |");
        text.AppendLine(Invariant, $"| time new pods spent pulling, summed | {Seconds(plain.NewPodPullTotal)} | {Seconds(kwarm.NewPodPullTotal)} |");
        text.AppendLine(Invariant, $"| longest time one new pod spent pulling | {Seconds(plain.NewPodPullMax)} | {Seconds(kwarm.NewPodPullMax)} |");
        text.AppendLine(Invariant, $"| two versions Ready at once | {Seconds(plain.TwoVersions)} | {Seconds(kwarm.TwoVersions)} |");
        text.AppendLine(Invariant, $"| fewest Ready pods during the rollout | {plain.MinimumReady} of {options.Replicas} | {kwarm.MinimumReady} of {options.Replicas} |");
        text.AppendLine();
        var difference = kwarm.Total - plain.Total;
        var after = kwarm.Held is { } releasedAfter ? kwarm.Total - releasedAfter : kwarm.Total;
        text.AppendLine(Invariant, $"With Kwarm the rollout took {Seconds(difference.Duration())} {(difference >= TimeSpan.Zero ? "longer" : "less")} from the image change to the end; " +
            $"{(kwarm.Held is null ? "" : $"of its {Seconds(kwarm.Total)}, {Seconds(kwarm.Held.Value)} were the hold (old pods serving alone) and {Seconds(after)} the rollout itself. ")}" +
            $"Both pulled in waves: the pre-pull at most {Math.Min(10, options.Nodes)} nodes at once (Kwarm's cluster-wide cap; 2 per node), the plain rollout at most " +
            $"{Surge(options.Replicas) + Unavailable(options.Replicas)} new pods at once (maxSurge {Surge(options.Replicas)} + maxUnavailable {Unavailable(options.Replicas)}), each wave waiting for its pulls. " +
            $"At time factor 1 every pull-bound part of both columns would be {1 / options.TimeFactor:0.#} times longer; Kwarm's reaction times would not.");
    }

    private static int Surge(int replicas) => (int)Math.Ceiling(replicas * 0.25);

    private static int Unavailable(int replicas) => (int)Math.Floor(replicas * 0.25);

    private static void Row(StringBuilder text, string label, Summary summary) =>
        text.AppendLine(Invariant, $"| {label} | {Number(summary.Median)} | {Number(summary.P90)} | {Number(summary.Max)} |");

    private static string Number(double value) => double.IsNaN(value) ? "—" : value.ToString("0", Invariant);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.00 's'", Invariant);

    private static Summary Stage(IEnumerable<HoldSample> holds, Func<HoldSample, TimeSpan?> step) =>
        Summary.Of(holds.Where(h => h.Log.LastNodeFinished is not null && h.Log.Completed is not null && h.Log.Released is not null)
            .Select(step).OfType<TimeSpan>().Select(span => span.TotalMilliseconds));

    private static string Distinct(IEnumerable<int> values) => string.Join(" or ", values.Distinct().Order().Select(v => v.ToString(Invariant)));

    /// <summary>Counts per 100 ms bucket, e.g. "0–99 ms: 3, 100–199 ms: 12".</summary>
    private static string Histogram(IReadOnlyList<double> values) =>
        string.Join(", ", values.GroupBy(v => (int)Math.Floor(v / 100)).OrderBy(g => g.Key)
            .Select(g => string.Create(Invariant, $"{g.Key * 100}–{(g.Key * 100) + 99} ms: {g.Count()}")));

    private readonly record struct Summary(double Median, double P90, double Max)
    {
        /// <summary>Nearest-rank percentiles, as the webhook section uses.</summary>
        public static Summary Of(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            if (sorted.Length == 0)
            {
                return new Summary(double.NaN, double.NaN, double.NaN);
            }

            return new Summary(NearestRank.Of(sorted, 0.5), NearestRank.Of(sorted, 0.9), sorted[^1]);
        }
    }
}
