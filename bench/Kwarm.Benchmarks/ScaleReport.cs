using System.Globalization;
using System.Text;

namespace Kwarm.Benchmarks;

/// <summary>The <c>## Scale</c> section of docs/benchmarks.md: every DESIGN §9 target with its measured value and verdict.</summary>
internal static class ScaleReport
{
    public const string Heading = "## Scale";
    public const double WallTarget = 1.1;
    public const double ReleaseMedianTargetMs = 500;
    public const double MemoryTargetMib = 150;
    public const double WebhookP99TargetMs = 5;

    public static string Render(ScaleOptions options, IReadOnlyList<ScaleResult> results, string loadBefore)
    {
        var invariant = CultureInfo.InvariantCulture;
        var main = results[^1];
        var w = main.Workload;
        var ratio = Ratio(main);
        var releases = main.ReleaseLatencies.Select(latency => latency.TotalMilliseconds).ToArray();
        var release = Percentiles(releases);
        var peakMib = main.End.PeakRssBytes / 1024.0 / 1024.0;
        var webhook = Percentiles([.. main.WebhookImageChangeMs]);
        var webhookAll = Percentiles([.. main.WebhookAllMs]);
        var quietNonLease = IdleWork(main);
        var complete = main.Released == w.Held && main.PullsDone == main.PullsExpected;

        // The native binary that `dotnet publish` writes (--kwarm), or `dotnet Kwarm.dll`.
        var native = options.KwarmArgument is not null;
        var text = new StringBuilder();
        text.AppendLine(Heading).AppendLine();
        text.AppendLine(invariant, $"Kwarm against the simulator at {w.Nodes:N0} nodes and {w.Deployments:N0} Deployments, {w.Held} of them held at once with 1–3 new images each " +
            $"(caps: 10 pulls cluster-wide, 2 per node, Kwarm's defaults). Kwarm runs as its own process ({(native ? "the native binary that `dotnet publish src/Kwarm -c Release` writes, as the image ships it" : "`dotnet Kwarm.dll`, the framework-dependent build")}) " +
            $"connected as service account `kwarm-system/kwarm`, so memory, CPU and API requests below are Kwarm's alone.").AppendLine();
        text.AppendLine("Command:").AppendLine().AppendLine("```bash");
        if (options.KwarmArgument is { } kwarmPath)
        {
            text.AppendLine(invariant, $"dotnet publish src/Kwarm -c Release -o {Path.GetDirectoryName(kwarmPath)}");
        }

        text
            .AppendLine(invariant, $"dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale --nodes {options.Nodes} --deployments {options.Deployments} --held {options.Held}{(options.Growth.Count > 0 ? " --growth" : "")}{(native ? " --kwarm " + options.KwarmArgument : "")}")
            .AppendLine("```").AppendLine();

        text.AppendLine("| target (DESIGN §9) | measured | verdict |").AppendLine("| --- | --- | --- |");
        text.AppendLine(invariant, $"| pre-pull wall time ≤ {WallTarget}× the ideal schedule the caps allow | {Seconds(main.PrePullWall)} against an ideal of {Seconds(main.Ideal.Value)}: **{ratio:0.00}×** | {Verdict(complete && ratio <= WallTarget)} |");
        text.AppendLine(invariant, $"| release after the hold's last pull: median ≤ {ReleaseMedianTargetMs:0} ms | median **{release.P50:0} ms**, p90 {release.P90:0} ms, max {release.Max:0} ms over {releases.Length} holds | {Verdict(complete && release.P50 <= ReleaseMedianTargetMs)} |");
        text.AppendLine(invariant, $"| Kwarm RSS ≤ {MemoryTargetMib:0} MiB with {w.Nodes:N0} nodes and {w.Deployments:N0} Deployments cached | peak (VmHWM, whole run) **{peakMib:0.0} MiB**; {ProcessStats.Mib(main.Cached.RssBytes)} MiB with everything cached before the holds, {ProcessStats.Mib(main.AfterHolds.RssBytes)} MiB after them | {Verdict(peakMib <= MemoryTargetMib)} |");
        var fitText = Fit(results) is { } line
            ? string.Create(invariant, $"across the growth runs, requests per hold = {line.Fixed:0.0} + {line.PerNode:0.00} × target nodes, every size within {line.WorstDeviation:0.0%} of that line")
            : "run with --growth for the fit across node counts";
        text.AppendLine(invariant, $"| API requests per hold proportional to target nodes, no polling | {PerHold(main.HoldRequests, w):0.0} requests per hold for {w.TargetNodesPerHold:0.#} target nodes × {w.ImagesPerHold:0.##} images; {fitText}; {quietNonLease} requests other than Lease renewals and watches in {main.QuietPeriod.TotalSeconds:0} s idle | {Verdict(quietNonLease == 0 && Proportional(results))} |");
        text.AppendLine(invariant, $"| webhook p99 ≤ {WebhookP99TargetMs:0} ms (as in the webhook benchmark), measured during this run | image changes of the holds: p50 {webhook.P50:0.0} ms, **p99 {webhook.P99:0.0} ms** ({main.WebhookImageChangeMs.Count} calls); every call of the run: p50 {webhookAll.P50:0.0} ms, p99 {webhookAll.P99:0.0} ms ({main.WebhookAllMs.Count} calls), {main.WebhookUnanswered} unanswered; {Handling(main.WebhookHandling)} | {Verdict(webhook.P99 <= WebhookP99TargetMs && main.WebhookUnanswered == 0)} |");
        text.AppendLine();

        text.AppendLine(invariant, $"The webhook row is the latency the simulated API server saw while it also ran {w.Nodes:N0} kubelets, the controllers and the benchmark on the same two cores as Kwarm; " +
            $"the webhook's own target is measured alone in the Webhook section above, and Kwarm's share of these calls is its handling time there.").AppendLine();
        text.AppendLine(invariant, $"Also measured: Kwarm's CPU time {main.End.Cpu.TotalSeconds:0.0} s for the whole run ({main.Cached.Cpu.TotalSeconds:0.0} s to list, watch and admit the {w.Deployments:N0} Deployments; " +
            $"{(main.AfterHolds.Cpu - main.Cached.Cpu).TotalSeconds:0.0} s from the image changes to the last release); {main.PullsDone:N0} of {main.PullsExpected:N0} expected pulls; " +
            $"{main.PullsAfterRelease} pulls of a held image finished after its hold was released (a release before warm would show here); " +
            $"the {w.Held} image changes were admitted within {Seconds(main.HoldSpread)} of each other; setup (cluster, Kwarm, {w.Deployments:N0} Deployments running) took {Seconds(main.Setup)}{(main.Settled ? "" : "; the cluster had not fully settled (pull Jobs or rollouts left) when the idle period began")}.").AppendLine();

        var startup = Percentiles([.. main.JobStartups.Select(value => value.TotalMilliseconds)]);
        var refill = Percentiles([.. main.SlotRefills.Select(value => value.TotalMilliseconds)]);
        text.AppendLine(invariant, $"Where the wall time beyond the ideal goes: on average {main.MeanConcurrentPulls:0.0} pulls ran at once against the cap of 10 (a pull waiting behind another in its node's kubelet counts as running). " +
            $"A pull Job took p50 {startup.P50:0} ms (mean {Mean(main.JobStartups):0} ms, p90 {startup.P90:0} ms) from its creation until its pod asked the kubelet for the image — the simulator's Job controller, scheduler and kubelet plus the init container's run — " +
            $"and a slot freed by a finished pull was refilled with a new Job p50 {refill.P50:0} ms (mean {Mean(main.SlotRefills):0} ms, p90 {refill.P90:0} ms) after the pull ended: the kubelet's status write, the watch to Kwarm, the scheduling pass and the Job create. " +
            $"Both are spent inside the slot (the caps count Jobs that exist), so each pull Job costs its pull time plus about their sum; the ideal counts neither.").AppendLine();
        text.AppendLine(invariant, $"Kwarm's resident memory at the end of the run, {ProcessStats.Mib(main.End.RssBytes)} MiB: {ProcessStats.Mib(main.End.AnonBytes)} MiB anonymous (the GC heap — the caches and what the last collection left — and native allocations), " +
            $"{ProcessStats.Mib(main.End.FileBytes)} MiB file-backed ({(native ? "the native binary and the system libraries it loads" : "the runtime's, ASP.NET Core's, KubernetesClient's and OpenTelemetry's assemblies and libraries")} as mapped), {ProcessStats.Mib(main.End.SharedBytes)} MiB shared (JIT-compiled code{(native ? ", none in a native binary" : "")}). " +
            $"Before the first hold, with {w.Nodes:N0} nodes and {w.Deployments:N0} Deployments cached: {ProcessStats.Mib(main.Cached.RssBytes)} MiB ({ProcessStats.Mib(main.Cached.AnonBytes)} anonymous, {ProcessStats.Mib(main.Cached.FileBytes)} file-backed, {ProcessStats.Mib(main.Cached.SharedBytes)} shared).").AppendLine();

        text.AppendLine("### Kwarm's API requests during the holds").AppendLine();
        text.AppendLine(invariant, $"From the first image change until every hold was released, its pull Jobs deleted and its rollout done, by verb and resource (the simulator's audit, Kwarm's user only); " +
            $"per hold = ÷ {w.Held}; per pull = ÷ {main.PullsExpected:N0} pull Jobs ({w.TargetNodesPerHold:0.#} target nodes × {w.ImagesPerHold:0.##} images per hold).").AppendLine();
        text.AppendLine("| verb resource | requests | per hold | per pull |").AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var (key, count) in main.HoldRequests.ByVerbAndResource.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal))
        {
            text.AppendLine(invariant, $"| {key} | {count:N0} | {count / (double)w.Held:0.00} | {count / (double)Math.Max(1, main.PullsExpected):0.000} |");
        }

        text.AppendLine(invariant, $"| **total** | {main.HoldRequests.Total:N0} | {PerHold(main.HoldRequests, w):0.00} | {main.HoldRequests.Total / (double)Math.Max(1, main.PullsExpected):0.000} |").AppendLine();
        text.AppendLine(invariant, $"Idle for {main.QuietPeriod.TotalSeconds:0} s after that: {(main.QuietRequests.Total == 0 ? "no requests at all" : string.Join(", ", main.QuietRequests.ByVerbAndResource.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Value} × {pair.Key}")))}. " +
            $"Setup (initial lists, watches, the webhook's {w.Deployments:N0} admissions need none): {string.Join(", ", main.SetupRequests.ByVerbAndResource.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Value} × {pair.Key}"))}.").AppendLine();

        if (results.Count > 1)
        {
            text.AppendLine("### Growth").AppendLine();
            text.AppendLine(invariant, $"The same workload ({w.Deployments:N0} Deployments, {w.Held} held, {w.Pools} pools) at each node count; more nodes means more nodes per pool, so more target nodes per hold.").AppendLine();
            text.AppendLine("| nodes | target nodes per hold | pull Jobs | ideal | wall time | wall ÷ ideal | release median / max | RSS cached / peak (MiB) | CPU s (whole run / holds) | requests per hold | requests per pull | idle requests (not Lease, not watch) |");
            text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var result in results)
            {
                var latency = Percentiles([.. result.ReleaseLatencies.Select(value => value.TotalMilliseconds)]);
                var idle = IdleWork(result);
                text.AppendLine(invariant, $"| {result.Workload.Nodes:N0} | {result.Workload.TargetNodesPerHold:0.#} | {result.PullsExpected:N0} | {Seconds(result.Ideal.Value)} | {Seconds(result.PrePullWall)} | {Ratio(result):0.00} | {latency.P50:0} / {latency.Max:0} ms | " +
                    $"{ProcessStats.Mib(result.Cached.RssBytes)} / {ProcessStats.Mib(result.End.PeakRssBytes)} | {result.End.Cpu.TotalSeconds:0.0} / {(result.AfterHolds.Cpu - result.Cached.Cpu).TotalSeconds:0.0} | " +
                    $"{PerHold(result.HoldRequests, result.Workload):0.0} | {result.HoldRequests.Total / (double)Math.Max(1, result.PullsExpected):0.00} | {idle} |");
            }

            text.AppendLine();
        }

        text.AppendLine("### How it is measured").AppendLine();
        text.AppendLine(invariant, $"- **Workload.** {w.Nodes:N0} nodes labelled into {w.Pools} pools; {w.Deployments:N0} Deployments of one replica (one pod each, kept small so the simulator carries the cluster), " +
            $"spread over {ScaleWorkload.Namespaces} namespaces, each pinned to a pool by its pod template's `nodeSelector` and running 1–3 containers; all are selected by one PrePullPolicy (`hold.maxDuration: 1h`, so no hold ends by timeout). " +
            $"The first {w.Held} Deployments get new images of 100–600 MB (seeded, the same in every run), changed by 20 concurrent strategic-merge patches. A hold's target nodes are its pool's nodes, as the hold controller derives them from the `nodeSelector`. " +
            $"The tools image and the old images are on every node from the start.");
        text.AppendLine(invariant, $"- **Time factor {options.TimeFactor}.** The simulator's pull-time model is size ÷ bandwidth (100 MB/s per node, one pull at a time per node, like a kubelet with serialised pulls) times the factor, " +
            $"so a pull lasts {0.1 * options.TimeFactor * 10:0.0##}–{0.6 * options.TimeFactor * 10:0.0##} s of real time (mean pull Job {main.Ideal.MeanJob.TotalMilliseconds:0} ms including the init container's {ScaleBenchmark.InitRun.TotalSeconds * options.TimeFactor * 1000:0} ms): " +
            $"long against timer granularity (~1 ms) and against one API round trip, so the ratio measures Kwarm's scheduling and not the clock, yet short enough that {main.PullsExpected:N0} pulls at 10 at a time finish in minutes.");
        text.AppendLine(invariant, $"- **Ideal schedule.** The shortest pre-pull the caps allow given the simulator's time model and no API or watch latency at all: each pull Job holds a slot for its init container's run plus its image pull; " +
            $"ideal = max(all slot time ÷ 10, the busiest node's slot time ÷ 2, the busiest node's pulls end to end, the longest Job). Here: {Seconds(main.Ideal.ClusterCapBound)} (cluster cap), {Seconds(main.Ideal.NodeCapBound)} (per-node cap), " +
            $"{Seconds(main.Ideal.SerialPullBound)} (serial pulls on a node), {Seconds(main.Ideal.LongestJob)} (longest Job). Wall time runs from the first hold (the store's commit of the first paused image change) to the last held image's pull finishing on its last node (the kubelets' pull log).");
        text.AppendLine("- **Release latency** per hold: the commit of the write that unpaused the Deployment (observed in the simulator's store) minus the end of the last pull of that hold's images on its target nodes (the simulator's pull log). It includes the kubelet reporting the pull, the watch delivering it to Kwarm, the PrePullImage status write, the hold controller seeing it and the release patch.");
        text.AppendLine("- **Memory and CPU** are read from `/proc/<pid>/status` (VmRSS, VmHWM) and `/proc/<pid>/stat` (utime + stime) of the Kwarm process: the simulator and the benchmark run in another process.");
        text.AppendLine("- **Webhook latency** is what the simulated API server measured per call (send to answer read, over TLS), as kube-apiserver's admission latency would: the holds' image changes, and every call of the run (mostly the creates of the Deployments).");
        text.AppendLine(invariant, $"- **Machine.** {main.Machine}; load average after: {main.LoadAfter} (before the first run: {loadBefore}). The two cores were shared with other engineers' builds and tests, so times carry their noise; the simulator shares Kwarm's cores too.");
        text.AppendLine(invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        return text.ToString();
    }

    private static double Ratio(ScaleResult result) => result.Ideal.Value > TimeSpan.Zero ? result.PrePullWall / result.Ideal.Value : double.NaN;

    /// <summary>Requests in the idle period other than Lease renewals and watches (a watch the server timed out is re-opened, which is not polling).</summary>
    internal static long IdleWork(ScaleResult result) => result.QuietRequests.ByVerbAndResource
        .Where(pair => !pair.Key.Contains("leases", StringComparison.Ordinal) && !pair.Key.StartsWith("watch ", StringComparison.Ordinal))
        .Sum(pair => pair.Value);

    private static double PerHold(RequestCounts requests, ScaleWorkload workload) => requests.Total / (double)workload.Held;

    /// <summary>
    /// Requests per hold against target nodes per hold, fitted as a fixed part plus a part per target node (least
    /// squares): the work of a hold is linear in its target nodes when every size lies within 10% of that line.
    /// </summary>
    internal static (double Fixed, double PerNode, double WorstDeviation)? Fit(IReadOnlyList<ScaleResult> results)
    {
        var points = results.Select(result => (X: result.Workload.TargetNodesPerHold, Y: PerHold(result.HoldRequests, result.Workload))).ToList();
        if (points.Select(point => point.X).Distinct().Count() < 2)
        {
            return null;
        }

        var meanX = points.Average(point => point.X);
        var meanY = points.Average(point => point.Y);
        var slope = points.Sum(point => (point.X - meanX) * (point.Y - meanY)) / points.Sum(point => (point.X - meanX) * (point.X - meanX));
        var intercept = meanY - slope * meanX;
        var worst = points.Max(point => Math.Abs(point.Y - (intercept + slope * point.X)) / point.Y);
        return (intercept, slope, worst);
    }

    private static bool Proportional(IReadOnlyList<ScaleResult> results) =>
        Fit(results) is not { } fit || (fit.PerNode > 0 && fit.WorstDeviation <= 0.1);

    private static double Mean(IReadOnlyList<TimeSpan> values) => values.Count == 0 ? double.NaN : values.Average(value => value.TotalMilliseconds);

    internal static string Verdict(bool met) => met ? "**met**" : "**missed**";

    internal static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0} s");

    private readonly record struct Summary(double P50, double P90, double P99, double Max);

    private static Summary Percentiles(double[] values)
    {
        if (values.Length == 0)
        {
            return new Summary(double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var sorted = values.Order().ToArray();
        return new Summary(NearestRank.Of(sorted, 0.50), NearestRank.Of(sorted, 0.90), NearestRank.Of(sorted, 0.99), sorted[^1]);
    }

    /// <summary>Kwarm's side of the webhook calls, from its own histogram: how much of the tail is Kwarm's handling.</summary>
    private static string Handling(WebhookHandlingHistogram handling) =>
        handling.QuantileBound(0.99) is { } p99
            ? string.Create(CultureInfo.InvariantCulture, $"Kwarm's own handling of the {handling.Count} calls during the holds (its `kwarm_webhook_duration_seconds`): p99 ≤ {p99 * 1000:0.#} ms, {handling.Within(WebhookP99TargetMs / 1000.0)} of them within {WebhookP99TargetMs:0} ms")
            : "Kwarm's own histogram counted no call during the holds";
}
