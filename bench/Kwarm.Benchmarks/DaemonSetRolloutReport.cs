using System.Globalization;
using System.Text;

namespace Kwarm.Benchmarks;

/// <summary>Renders the DaemonSet benchmark as the <c>## DaemonSet rollout</c> section of docs/benchmarks.md.</summary>
internal static class DaemonSetRolloutReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(DaemonSetRolloutOptions options, DaemonSetRolloutResult result)
    {
        var (plain, kwarm) = (result.Plain, result.Kwarm);
        var pullSeconds = options.NewImageMiB / 100.0;
        var text = new StringBuilder();
        text.AppendLine(DaemonSetRolloutCommand.Heading).AppendLine();
        text.AppendLine(Invariant, $"Issue #16: how long each node runs without its daemon during a DaemonSet update, without and with Kwarm. " +
            $"**Result:** per node without the daemon, median {Seconds(Median(plain))} without Kwarm and {Seconds(Median(kwarm))} with it; max {Seconds(Max(plain))} and {Seconds(Max(kwarm))}.").AppendLine();
        text.AppendLine("Command:").AppendLine().AppendLine("```bash")
            .AppendLine(Invariant, $"dotnet run -c Release --project bench/Kwarm.Benchmarks -- daemonset --nodes {options.Nodes} --time-factor {options.TimeFactor} --old-image-mib {options.OldImageMiB} --new-image-mib {options.NewImageMiB}")
            .AppendLine("```").AppendLine();
        text.AppendLine(Invariant, $"What it does: on two identical fresh simulated clusters of {options.Nodes} nodes (in the benchmark's process, time factor {options.TimeFactor}: pulls at 100 MiB/s per node " +
            $"and container starts take {options.TimeFactor} of their modelled time), one without Kwarm and one with it installed as the README's guided run installs it (the basic sample policy), " +
            $"it creates an opted-in DaemonSet with no update strategy of its own (the default `RollingUpdate`, maxUnavailable 1, maxSurge 0), waits for its pod on every node, and changes its image " +
            $"from a {options.OldImageMiB} MiB one to a new {options.NewImageMiB} MiB one (a {pullSeconds:0.#} s pull, {pullSeconds * options.TimeFactor:0.##} s at time factor {options.TimeFactor}). " +
            $"Per node, the time without the daemon runs from the old pod's deletion (its `deletionTimestamp`) to the new pod on that node turning Ready, both from the simulator's commits " +
            $"(`SimulatedCluster.PodLifecycles`); complete = a Ready new pod on every node and every old pod gone. Percentiles are nearest-rank.").AppendLine();
        text.AppendLine("| measure | without Kwarm | with Kwarm |").AppendLine("| --- | ---: | ---: |");
        text.AppendLine(Invariant, $"| per node without the daemon, median | {Seconds(Median(plain))} | {Seconds(Median(kwarm))} |");
        text.AppendLine(Invariant, $"| per node without the daemon, max | {Seconds(Max(plain))} | {Seconds(Max(kwarm))} |");
        text.AppendLine(Invariant, $"| nodes without the daemon, summed | {Seconds(Sum(plain))} | {Seconds(Sum(kwarm))} |");
        text.AppendLine(Invariant, $"| image change → first old pod deleted | {Seconds(plain.FirstOldPodDeleted)} | {Seconds(kwarm.FirstOldPodDeleted)} |");
        text.AppendLine(Invariant, $"| image change → last pre-pull finished | — | {(kwarm.PrePullLastFinished is { } pre ? Seconds(pre) : "none")} |");
        text.AppendLine(Invariant, $"| image change → update complete | {Seconds(plain.Total)} | {Seconds(kwarm.Total)} |");
        text.AppendLine(Invariant, $"| pre-pulls by Kwarm's pull Jobs | {plain.PrePulls} | {kwarm.PrePulls} |");
        text.AppendLine(Invariant, $"| new daemon pods that pulled the image | {plain.NewPodPulls} of {plain.Nodes.Count} | {kwarm.NewPodPulls} of {kwarm.Nodes.Count} |");
        text.AppendLine();
        text.AppendLine(Invariant, $"Without Kwarm every node's gap holds its own pull: the controller deletes the old pod, the new one pulls {options.NewImageMiB} MiB, and only then does the next node start " +
            $"(maxUnavailable 1), so the update takes about {options.Nodes} pulls end to end. With Kwarm the old pods keep running while the nodes pre-pull " +
            $"(at most {Math.Min(10, options.Nodes)} at once, Kwarm's cluster-wide cap), then the release restores `RollingUpdate` and each node's gap is a container start. " +
            $"At time factor 1 every pull-bound figure would be {1 / options.TimeFactor:0.#} times longer; Kwarm's reaction times would not.").AppendLine();
        text.AppendLine(Invariant, $"- Per node without the daemon, without Kwarm (ms, in deletion order): {Gaps(plain)}.");
        text.AppendLine(Invariant, $"- Per node without the daemon, with Kwarm (ms, in deletion order): {Gaps(kwarm)}.");
        text.AppendLine(Invariant, $"- Machine: {result.Machine}.");
        text.AppendLine(Invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on the shared machine: the simulator, Kwarm and whatever else ran share the cores, so the tails carry their noise.");
        return text.ToString();
    }

    private static double[] Sorted(DaemonSetRolloutSample sample) => [.. sample.Nodes.Select(n => n.WithoutDaemon.TotalSeconds).Order()];

    private static TimeSpan Median(DaemonSetRolloutSample sample) => TimeSpan.FromSeconds(NearestRank.Of(Sorted(sample), 0.5));

    private static TimeSpan Max(DaemonSetRolloutSample sample) => TimeSpan.FromSeconds(Sorted(sample)[^1]);

    private static TimeSpan Sum(DaemonSetRolloutSample sample) => TimeSpan.FromTicks(sample.Nodes.Sum(n => n.WithoutDaemon.Ticks));

    private static string Gaps(DaemonSetRolloutSample sample) =>
        string.Join(", ", sample.Nodes.OrderBy(n => n.OldPodDeleted).Select(n => n.WithoutDaemon.TotalMilliseconds.ToString("0", Invariant)));

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.00 's'", Invariant);
}
