using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Kwarm.Benchmarks;

/// <summary>
/// The <c>## Storm</c> section of docs/benchmarks.md (issue #18): the 5,000-node storm against every DESIGN §9
/// target, the fairness distribution over all holds, the growth table with its fits, and the sizing they give.
/// </summary>
internal static partial class StormReport
{
    public const string Heading = "## Storm";
    public const double WallTarget = 1.1;
    public const double ReleaseMedianTargetMs = 500;
    public const double MemoryTargetMib = 200;
    public const double Headroom = 0.30;
    public const double WebhookP99TargetMs = 5;
    public const double ColdStartTargetSeconds = 30;
    public const double FairnessTarget = 2;

    /// <summary>The API server's default webhook timeout, and the manifests' (<c>timeoutSeconds: 10</c>).</summary>
    public const double WebhookTimeoutMs = 10_000;

    public static string Render(ScaleOptions options, IReadOnlyList<ScaleResult> results, string loadBefore)
    {
        var invariant = CultureInfo.InvariantCulture;
        var main = results[^1];
        var w = main.Workload;
        var text = new StringBuilder();
        var complete = main.Released == w.Held && main.PullsDone == main.PullsExpected;
        var ratio = main.PrePullWall / main.Ideal.Value;
        var release = Summary.Of([.. main.ReleaseLatencies.Select(latency => latency.TotalMilliseconds)]);
        var peakMib = Math.Max(Mib(main.End.PeakRssBytes), Mib(main.ColdStartStats.PeakRssBytes));
        var limitMib = InstalledMemoryLimitMib(options.RepositoryRoot);
        var native = options.KwarmArgument is not null;
        var probe = Probe(main);
        var slowestCall = main.WebhookAllMs.DefaultIfEmpty(0).Max();

        text.AppendLine(Heading).AppendLine();
        text.AppendLine(invariant, $"A fleet-wide image bump at Kubernetes' own limits: Kwarm against the simulator at {w.Nodes:N0} nodes and {w.Deployments:N0} Deployments, " +
            $"{w.Held:N0} of them changing their images (1–3 each) within {options.Arrival.TotalSeconds:0} s, their targets mixed from 5 nodes to every node, " +
            $"with the caps a cluster of that size would use (`--max-concurrent-pulls {options.MaxConcurrentPulls}`, {options.MaxPullsPerNode} per node). " +
            $"Kwarm runs as its own process ({(native ? "the native binary `dotnet publish src/Kwarm -c Release` writes, as the image ships it" : "`dotnet Kwarm.dll`")}), connected as service account `kwarm-system/kwarm`.").AppendLine();
        text.AppendLine("Command:").AppendLine().AppendLine("```bash");
        if (options.KwarmArgument is { } kwarmPath)
        {
            text.AppendLine(invariant, $"dotnet publish src/Kwarm -c Release -o {Path.GetDirectoryName(kwarmPath)}");
        }

        text.AppendLine(invariant, $"dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale --storm --nodes {options.Nodes}{(options.Growth.Count > 0 ? " --growth" : "")}{(native ? " --kwarm " + options.KwarmArgument : "")}")
            .AppendLine("```").AppendLine();

        text.AppendLine("| target (DESIGN §9, issue #18) | measured | verdict |").AppendLine("| --- | --- | --- |");
        var memoryBound = Math.Min(MemoryTargetMib, limitMib * (1 - Headroom));
        text.AppendLine(invariant, $"| Kwarm RSS ≤ {MemoryTargetMib:0} MiB, and under the installed limit ({limitMib:0} MiB) with {Headroom:0%} headroom (≤ {limitMib * (1 - Headroom):0.#} MiB) | peak **{peakMib:0.0} MiB** (VmHWM: the storm's run {Mib(main.End.PeakRssBytes):0.0} MiB, a cold start against the full cluster {Mib(main.ColdStartStats.PeakRssBytes):0.0} MiB); {Mib(main.Cached.RssBytes):0.0} MiB with everything cached before the storm, {Mib(main.AfterHolds.RssBytes):0.0} MiB after it | {Verdict(peakMib <= memoryBound)} |");
        text.AppendLine(invariant, $"| Kwarm's own webhook handling p99 ≤ {WebhookP99TargetMs:0} ms during the storm (`kwarm_webhook_duration_seconds`), no call timing out | {Handling(main.WebhookHandling)}; as the API server saw them: {CallLatency(main)}; slowest call of the run {slowestCall:0} ms, {main.WebhookUnanswered} unanswered | {Verdict(main.WebhookHandling.QuantileBound(0.99) is { } p99 && p99 * 1000 <= WebhookP99TargetMs && main.WebhookUnanswered == 0 && slowestCall < WebhookTimeoutMs)} |");
        text.AppendLine(invariant, $"| pre-pull wall time ≤ {WallTarget}× the ideal schedule the caps allow | {Seconds(main.PrePullWall)} against an ideal of {Seconds(main.Ideal.Value)}: **{ratio:0.00}×** ({main.PullsDone:N0} of {main.PullsExpected:N0} pulls) | {Verdict(complete && ratio <= WallTarget)} |");
        text.AppendLine(invariant, $"| release after the hold's last pull: median ≤ {ReleaseMedianTargetMs:0} ms | median **{release.P50:0} ms**, p90 {release.P90:0} ms, max {release.Max:0} ms over {release.Count:N0} holds | {Verdict(complete && release.P50 <= ReleaseMedianTargetMs)} |");
        var perPull = results.Select(result => result.HoldRequests.Total / (double)Math.Max(1, result.PullsExpected)).ToList();
        var spread = perPull.Count > 1 ? perPull.Max() / perPull.Min() - 1 : 0;
        var idle = IdleWork(main);
        text.AppendLine(invariant, $"| API requests per hold proportional to target nodes, none while idle | {main.HoldRequests.Total / (double)w.Held:0.0} requests per hold, **{perPull[^1]:0.00} per pull Job** ({main.PullsExpected:N0} Jobs for {w.Held:N0} holds of {w.TargetNodesPerHold:0.#} target nodes on average){(results.Count > 1 ? string.Create(invariant, $"; per pull Job across the growth sizes {string.Join(", ", perPull.Select(value => value.ToString("0.00", invariant)))} (spread {spread:0.0%})") : "")}; {idle} requests other than Lease renewals and watches in {main.QuietPeriod.TotalSeconds:0} s idle | {Verdict(idle == 0 && spread <= 0.1)} |");
        text.AppendLine(invariant, $"| cache sync at start ≤ {ColdStartTargetSeconds:0} s | a second Kwarm started against the full cluster after the storm was ready (every cache listed and watching) **{main.ColdStart.TotalSeconds:0.0} s** after its process started, RSS {Mib(main.ColdStartStats.RssBytes):0.0} MiB (peak {Mib(main.ColdStartStats.PeakRssBytes):0.0} MiB) | {Verdict(main.ColdStart.TotalSeconds <= ColdStartTargetSeconds)} |");
        text.AppendLine(invariant, $"| fairness: a 5-node hold arriving after the {w.Nodes:N0}-node hold finishes within {FairnessTarget:0}× its own ideal time | {(probe is null ? "no such hold" : string.Create(invariant, $"`{probe.Held.Key}` ({probe.TargetNodes} nodes × {probe.Held.NewImages.Count} images, arrived {(probe.HeldAt - main.Holds[0].HeldAt).TotalSeconds:0.00} s after it): {Seconds(probe.Actual)} from hold to release against its ideal of {Seconds(probe.Ideal)}: **{probe.Ratio:0.00}×**"))} | {Verdict(probe is not null && probe.Ratio <= FairnessTarget)} |");
        text.AppendLine();

        text.AppendLine("### Fairness over every hold").AppendLine();
        text.AppendLine("Each hold's time from its hold (the store's commit of the paused image change) to its release, against its own ideal: the time its pulls alone would take under the caps with the cluster to itself. A ratio of 1 is a hold that did not wait for anybody; the storm's holds share the same pull slots, so most ratios are above it, and a scheduler that serves small holds first keeps theirs low without delaying the whole.").AppendLine();
        text.AppendLine("| target | holds | target nodes | ideal (median) | hold to release p50 / p90 / max | actual ÷ ideal p50 / p90 / p99 / max |").AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in main.Holds.Where(hold => hold.ReleasedAt != DateTimeOffset.MaxValue).GroupBy(hold => hold.Held.Target.Class).OrderBy(group => group.Average(hold => hold.TargetNodes)))
        {
            var actual = Summary.Of([.. group.Select(hold => hold.Actual.TotalSeconds)]);
            var ratios = Summary.Of([.. group.Select(hold => hold.Ratio)]);
            var ideal = Summary.Of([.. group.Select(hold => hold.Ideal.TotalSeconds)]);
            text.AppendLine(invariant, $"| {group.Key} | {group.Count():N0} | {group.Average(hold => hold.TargetNodes):0} | {ideal.P50:0.0} s | {actual.P50:0.0} / {actual.P90:0.0} / {actual.Max:0.0} s | {ratios.P50:0.0} / {ratios.P90:0.0} / {ratios.P99:0.0} / {ratios.Max:0.0} |");
        }

        var all = main.Holds.Where(hold => hold.ReleasedAt != DateTimeOffset.MaxValue).Select(hold => hold.Ratio).ToList();
        double[] bounds = [1.5, 2, 5, 10, 20];
        var buckets = bounds.Select((bound, index) => (Label: index == 0 ? $"≤ {bound}" : $"{bounds[index - 1]}–{bound}", Count: all.Count(value => value <= bound && (index == 0 || value > bounds[index - 1])))).ToList();
        buckets.Add(($"> {bounds[^1]}", all.Count(value => value > bounds[^1])));
        text.AppendLine();
        text.AppendLine(invariant, $"Distribution of actual ÷ ideal over all {all.Count:N0} holds: {string.Join(", ", buckets.Select(bucket => string.Create(invariant, $"{bucket.Label}: {bucket.Count:N0}")))}.").AppendLine();

        if (results.Count > 1)
        {
            RenderGrowth(text, results);
        }

        text.AppendLine("### How it is measured").AppendLine();
        text.AppendLine(invariant, $"- **Workload.** {w.Nodes:N0} nodes in {w.Pools:N0} pools of 5, ten pools to a rack (50 nodes), a hundred to a zone (500 nodes), as node labels; {w.Deployments:N0} Deployments of one replica in {ScaleWorkload.Namespaces} namespaces, pinned to their pool by `nodeSelector`, all selected by one PrePullPolicy (`hold.maxDuration: 1h`). " +
            $"The first {w.Held:N0} change their images: the first of them has no `nodeSelector` (every node, one image), then a zone's every 500th, a rack's every 50th, and a pool's the rest — {string.Join(", ", w.HeldDeployments.GroupBy(held => held.Target.Class).Select(group => string.Create(invariant, $"{group.Count():N0} × {w.NodesOf(group.First().Target).Count:N0} nodes")))}. " +
            $"Their image changes are sent in that order, evenly over {options.Arrival.TotalSeconds:0} s; new images are 100–600 MB (seeded).");
        text.AppendLine(invariant, $"- **Time factor {options.TimeFactor}.** A pull lasts size ÷ 100 MB/s × the factor ({1.0 * options.TimeFactor:0.##}–{6.0 * options.TimeFactor:0.##} s of real time), one at a time per node: {options.MaxConcurrentPulls} pulls at once then start about {options.MaxConcurrentPulls / (3.6 * options.TimeFactor):0} pull Jobs a second, which two cores can carry for the simulator's {w.Nodes:N0} kubelets and controllers and Kwarm together.");
        text.AppendLine(invariant, $"- **Ideal schedule** as in the Scale section, with the cap of {options.MaxConcurrentPulls}: here {Seconds(main.Ideal.ClusterCapBound)} (cluster cap), {Seconds(main.Ideal.NodeCapBound)} (per-node cap), {Seconds(main.Ideal.SerialPullBound)} (serial pulls on a node), {Seconds(main.Ideal.LongestJob)} (longest Job). A hold's own ideal is the same bound over its pulls alone.");
        text.AppendLine("- **Cold start**: after the idle period a second Kwarm process (same binary, flags and service account) is started; the time is from its process start to its `/readyz` answering 200, which it does once every informer has listed and is watching. It stays a follower, so it does nothing else.");
        text.AppendLine("- **Memory, CPU, requests, webhook** are measured as in the Scale section: `/proc` of the Kwarm process, the simulator's audit of Kwarm's user, Kwarm's own histogram scraped from `/metrics` before and after the storm.");
        text.AppendLine(invariant, $"- **Machine.** {main.Machine}; load average after: {main.LoadAfter} (before the first run: {loadBefore}).");
        text.AppendLine(invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        return text.ToString();
    }

    private static void RenderGrowth(StringBuilder text, IReadOnlyList<ScaleResult> results)
    {
        var invariant = CultureInfo.InvariantCulture;
        text.AppendLine("### Growth").AppendLine();
        text.AppendLine("The same cluster shape at each size: 5 Deployments, 0.2 holds and 0.2 pools per node, the same mix of targets and the same caps. " +
            "RSS with nodes cached is read before any Deployment exists; with all cached, once every Deployment runs; cold start is a second Kwarm started after the storm.").AppendLine();
        text.AppendLine("| nodes | Deployments | holds | pull Jobs | wall ÷ ideal | release median | RSS nodes cached / all cached / storm peak (MiB) | cold start: ready / RSS / peak | CPU s (whole run / storm) | cores during the storm | requests per pull Job | idle requests |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var result in results)
        {
            var w = result.Workload;
            var release = Summary.Of([.. result.ReleaseLatencies.Select(latency => latency.TotalMilliseconds)]);
            text.AppendLine(invariant, $"| {w.Nodes:N0} | {w.Deployments:N0} | {w.Held:N0} | {result.PullsExpected:N0} | {result.PrePullWall / result.Ideal.Value:0.00} | {release.P50:0} ms | " +
                $"{Mib(result.NodesCached.RssBytes):0.0} / {Mib(result.Cached.RssBytes):0.0} / {Mib(result.End.PeakRssBytes):0.0} | {result.ColdStart.TotalSeconds:0.0} s / {Mib(result.ColdStartStats.RssBytes):0.0} / {Mib(result.ColdStartStats.PeakRssBytes):0.0} MiB | " +
                $"{result.End.Cpu.TotalSeconds:0.0} / {(result.AfterHolds.Cpu - result.Cached.Cpu).TotalSeconds:0.0} | {Fits.StormCores(result):0.00} | {result.HoldRequests.Total / (double)Math.Max(1, result.PullsExpected):0.00} | {IdleWork(result)} |");
        }

        var fits = Fits.Of(results);
        text.AppendLine();
        text.AppendLine(invariant, $"Fits (least squares over the {results.Count} sizes, n = nodes; the Deployments are 5 n):").AppendLine();
        text.AppendLine(invariant, $"- nodes cached: RSS = {fits.NodeCache.Intercept:0.0} MiB + **{fits.NodeCache.Slope * 1024:0.0} KiB per node** (worst size {fits.NodeCache.Worst:0.0%} off the line);");
        text.AppendLine(invariant, $"- Deployments cached: RSS(all cached) − RSS(nodes cached) = {fits.DeploymentCache.Intercept:0.0} MiB + **{fits.DeploymentCache.Slope * 1024:0.00} KiB per Deployment** (worst {fits.DeploymentCache.Worst:0.0%});");
        text.AppendLine(invariant, $"- storm peak: {fits.StormPeak.Intercept:0.0} MiB + {fits.StormPeak.Slope * 1024:0.0} KiB per node (worst {fits.StormPeak.Worst:0.0%}); cold-start peak (every list at once): {fits.ColdPeak.Intercept:0.0} MiB + {fits.ColdPeak.Slope * 1024:0.0} KiB per node (worst {fits.ColdPeak.Worst:0.0%});");
        text.AppendLine(invariant, $"- CPU: whole run = {fits.Cpu.Intercept:0.0} s + **{fits.Cpu.Slope * 1000:0.0} ms per pull Job** (worst {fits.Cpu.Worst:0.0%}); cores busy during the storm = {fits.Cores.Intercept:0.00} + {fits.Cores.Slope * 1000:0.00} per 1,000 nodes; cold start = {fits.Start.Intercept:0.00} s + {fits.Start.Slope * 1000:0.00} s per 1,000 objects listed (nodes + Deployments; worst {fits.Start.Worst:0.0%}).").AppendLine();

        text.AppendLine("### Sizing from the fits").AppendLine();
        text.AppendLine("Projected for this cluster shape at each size. The need is the larger of the storm's peak and a cold start's peak (a restart lists everything at once); the limit keeps 30 % headroom over it, and the request is what the caches hold at rest. CPU is the cores Kwarm kept busy during the storm (time-averaged): below it, a CPU limit slows the pre-pulls and the webhook. `docs/install.md` carries this table for users.").AppendLine();
        text.AppendLine("| nodes | Deployments | caches at rest | storm peak | cold-start peak | memory request | memory limit | CPU during a storm |").AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var nodes in SizingNodes)
        {
            var deployments = nodes * ScaleOptions.DeploymentsPerNode;
            var rest = fits.NodeCache.At(nodes) + fits.DeploymentCache.At(deployments);
            var need = Math.Max(fits.StormPeak.At(nodes), fits.ColdPeak.At(nodes));
            text.AppendLine(invariant, $"| {nodes:N0} | {deployments:N0} | {rest:0} MiB | {fits.StormPeak.At(nodes):0} MiB | {fits.ColdPeak.At(nodes):0} MiB | {RoundUp(rest, 32):0}Mi | {RoundUp(need / (1 - Headroom), 64):0}Mi | {fits.Cores.At(nodes) * 1000:0}m |");
        }

        text.AppendLine();
    }

    internal static readonly int[] SizingNodes = [100, 500, 1_000, 2_000, 5_000];

    internal static double RoundUp(double value, double step) => Math.Ceiling(value / step) * step;

    /// <summary>The first five-node hold to arrive after the hold of every node: the probe of DESIGN §9's fairness target.</summary>
    private static HoldOutcome? Probe(ScaleResult result)
    {
        var everyNode = result.Holds.FirstOrDefault(hold => hold.Held.Target.Class == "cluster");
        return everyNode is null
            ? null
            : result.Holds.Where(hold => hold.Held.Target.Class == "pool" && hold.HeldAt > everyNode.HeldAt && hold.ReleasedAt != DateTimeOffset.MaxValue).MinBy(hold => hold.HeldAt);
    }

    /// <summary>The manifests' memory limit (deploy/kustomize/default), which the chart's values repeat.</summary>
    internal static double InstalledMemoryLimitMib(string repositoryRoot)
    {
        var manifest = File.ReadAllText(Path.Combine(repositoryRoot, "deploy", "kustomize", "default", "deployment.yaml"));
        var match = LimitsMemory().Match(manifest);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;
    }

    [GeneratedRegex(@"limits:\s*\n(?:\s+cpu:.*\n)?\s+memory:\s*(\d+)Mi")]
    private static partial Regex LimitsMemory();

    private static long IdleWork(ScaleResult result) => ScaleReport.IdleWork(result);

    private static string Handling(WebhookHandlingHistogram handling) =>
        handling.QuantileBound(0.99) is { } p99
            ? string.Create(CultureInfo.InvariantCulture, $"**p99 ≤ {p99 * 1000:0.#} ms** over the {handling.Count:N0} calls of the storm, {handling.Within(WebhookP99TargetMs / 1000.0):N0} of them within {WebhookP99TargetMs:0} ms")
            : "Kwarm's histogram counted no call during the storm";

    private static string CallLatency(ScaleResult result)
    {
        var calls = Summary.Of([.. result.WebhookImageChangeMs]);
        return string.Create(CultureInfo.InvariantCulture, $"image changes p50 {calls.P50:0.0} ms, p99 {calls.P99:0.0} ms");
    }

    private static double Mib(long bytes) => bytes / 1024.0 / 1024.0;

    private static string Verdict(bool met) => ScaleReport.Verdict(met);

    private static string Seconds(TimeSpan span) => ScaleReport.Seconds(span);

    internal readonly record struct Summary(int Count, double P50, double P90, double P99, double Max)
    {
        public static Summary Of(double[] values)
        {
            if (values.Length == 0)
            {
                return new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN);
            }

            var sorted = values.Order().ToArray();
            return new Summary(sorted.Length, NearestRank.Of(sorted, 0.50), NearestRank.Of(sorted, 0.90), NearestRank.Of(sorted, 0.99), sorted[^1]);
        }
    }

    /// <summary>A least-squares line y = Intercept + Slope × x, and its worst relative miss over the points.</summary>
    internal readonly record struct Line(double Intercept, double Slope, double Worst)
    {
        public static Line Fit(IReadOnlyList<(double X, double Y)> points)
        {
            if (points.Count == 0)
            {
                return new Line(double.NaN, double.NaN, double.NaN);
            }

            if (points.Select(point => point.X).Distinct().Count() < 2)
            {
                return new Line(0, points.Average(point => point.Y / point.X), 0);
            }

            var meanX = points.Average(point => point.X);
            var meanY = points.Average(point => point.Y);
            var slope = points.Sum(point => (point.X - meanX) * (point.Y - meanY)) / points.Sum(point => (point.X - meanX) * (point.X - meanX));
            var intercept = meanY - slope * meanX;
            return new Line(intercept, slope, points.Max(point => Math.Abs(point.Y - (intercept + slope * point.X)) / Math.Abs(point.Y)));
        }

        public double At(double x) => Intercept + Slope * x;
    }

    /// <summary>The growth fits: MiB per node and per Deployment, the storm's and a cold start's peaks, CPU, start time.</summary>
    internal sealed record Fits(Line NodeCache, Line DeploymentCache, Line StormPeak, Line ColdPeak, Line Cpu, Line Cores, Line Start)
    {
        public static Fits Of(IReadOnlyList<ScaleResult> results) => new(
            Line.Fit([.. results.Select(result => ((double)result.Workload.Nodes, Mib(result.NodesCached.RssBytes)))]),
            Line.Fit([.. results.Select(result => ((double)result.Workload.Deployments, Mib(result.Cached.RssBytes - result.NodesCached.RssBytes)))]),
            Line.Fit([.. results.Select(result => ((double)result.Workload.Nodes, Mib(result.End.PeakRssBytes)))]),
            Line.Fit([.. results.Select(result => ((double)result.Workload.Nodes, Mib(result.ColdStartStats.PeakRssBytes)))]),
            Line.Fit([.. results.Select(result => ((double)result.PullsExpected, result.End.Cpu.TotalSeconds))]),
            Line.Fit([.. results.Select(result => ((double)result.Workload.Nodes, StormCores(result)))]),
            Line.Fit([.. results.Select(result => ((double)(result.Workload.Nodes + result.Workload.Deployments), result.ColdStart.TotalSeconds))]));

        /// <summary>Kwarm's CPU time from the first image change to the last release, over the pre-pull's wall time.</summary>
        public static double StormCores(ScaleResult result) => (result.AfterHolds.Cpu - result.Cached.Cpu).TotalSeconds / Math.Max(1, result.PrePullWall.TotalSeconds);
    }
}
