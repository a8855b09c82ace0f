using System.Globalization;
using System.Text;

namespace Kwarm.Benchmarks;

/// <summary>Renders the scale-out benchmark as the <c>## Scale-out with warm nodes</c> section of docs/benchmarks.md.</summary>
internal static class ScaleOutReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(ScaleOutOptions options, ScaleOutResult result)
    {
        var (plain, warm, uncapped) = (result.Plain, result.Warmup, result.WarmupUncapped);
        var newPods = options.ReplicasAfter - options.ReplicasBefore;
        var pullSeconds = options.ImageMiB / 100.0;
        var text = new StringBuilder();
        text.AppendLine(ScaleOutCommand.Heading).AppendLine();
        text.AppendLine(Invariant, $"Issue #17: {options.JoiningNodes} nodes join while a Deployment with a {options.ImageMiB} MiB image scales from {options.ReplicasBefore} to {options.ReplicasAfter} replicas, " +
            $"without and with Kwarm's node warm-up. **Result:** all {options.ReplicasAfter} Ready after {Seconds(plain.AllReady)} without warm-up, {Seconds(warm.AllReady)} with it " +
            $"({Seconds(uncapped.AllReady)} with `--max-concurrent-pulls {uncapped.MaxConcurrentPulls}`); " +
            $"new pods that pulled the image: {plain.NewPodPulls} of {newPods} without, {warm.NewPodPulls} of {newPods} with.").AppendLine();
        text.AppendLine("Command:").AppendLine().AppendLine("```bash")
            .AppendLine(Invariant, $"dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale-out --nodes {options.Nodes} --joining {options.JoiningNodes} --time-factor {options.TimeFactor} --image-mib {options.ImageMiB} --network-ready {options.NetworkReadySeconds}")
            .AppendLine("```").AppendLine();
        text.AppendLine(Invariant, $"What it does: two fresh simulated clusters in the benchmark's process, time factor {options.TimeFactor} (pulls at the simulator's default 100 MiB/s per node, " +
            $"one pull at a time per node, container starts and the joining nodes' network start take {options.TimeFactor} of their modelled time; Kwarm's and the API's own latencies are real). " +
            $"Each starts with {options.Nodes} nodes of {ScaleOutBenchmark.ExistingNodeCpu} CPUs that already hold the image, and an opted-in Deployment of {options.ReplicasBefore} replicas " +
            $"requesting {ScaleOutBenchmark.PodCpu} CPU each, so every node is full with one. Then, at the same moment, {options.JoiningNodes} nodes of {ScaleOutBenchmark.JoiningNodeCpu} CPUs join " +
            $"(room for two pods each, and for Kwarm's pull pods) and the Deployment is scaled to {options.ReplicasAfter} (the scale subresource, as `kubectl scale` does): the {newPods} new pods " +
            $"fit only on the joining nodes, two on each. The joining nodes report NotReady with the `node.kubernetes.io/not-ready` taint for {options.NetworkReadySeconds} s " +
            $"({options.NetworkReadySeconds * options.TimeFactor:0.##} s at the time factor) while their network starts, in both runs. " +
            $"The image is {options.ImageMiB} MiB: a {pullSeconds:0.#} s pull, {pullSeconds * options.TimeFactor:0.##} s at time factor {options.TimeFactor}.").AppendLine();
        text.AppendLine(Invariant, $"- **Without warm-up**: no Kwarm; the nodes join untainted and the scheduler binds the new pods to them as soon as they are Ready; each node's kubelet pulls the image for its pods.");
        text.AppendLine(Invariant, $"- **With warm-up**: Kwarm installed as the README's guided run installs it, with the basic sample policy plus `nodeWarmup: {{enabled: true, maxDuration: {ScaleOutBenchmark.WarmupMaxDuration}}}`, " +
            $"and the nodes join carrying `kwarm.io/warming=true:NoSchedule`. Kwarm pre-pulls the Deployment's image on each once it is Ready (its defaults: 10 pulls at once cluster-wide, 2 per node), " +
            $"then lifts the taint, and only then are the new pods placed there. A third run is the same with Kwarm started with `--max-concurrent-pulls {uncapped.MaxConcurrentPulls}`, so every joining node pulls at once, as without warm-up.").AppendLine();
        text.AppendLine("Times run from the nodes joining and the scale, on the simulator's commits (`SimulatedCluster.PodLifecycles`, a store listener for the Nodes' taints and Ready condition) " +
            "and the simulated kubelets' pull log (`SimulatedCluster.Pulls`). A new pod \"pulled\" when its kubelet asked the node's runtime for the image: a node's first such pod transfers it, " +
            "the second waits in the node's one-at-a-time pull queue and then finds it. Percentiles are nearest-rank.").AppendLine();
        var columns = new[] { plain, warm, uncapped };
        text.AppendLine(Invariant, $"| measure | without warm-up | with warm-up | with warm-up, `--max-concurrent-pulls {uncapped.MaxConcurrentPulls}` |").AppendLine("| --- | ---: | ---: | ---: |");
        Row(text, columns, $"scale → all {options.ReplicasAfter} replicas Ready", s => Seconds(s.AllReady));
        Row(text, columns, "scale → last joining node Ready (network started)", s => Seconds(s.LastNodeReady));
        Row(text, columns, "scale → first / last warming taint lifted", s => s.MaxConcurrentPulls is null ? "—" : $"{Optional(s.FirstWarmingLifted)} / {Optional(s.LastWarmingLifted)}");
        Row(text, columns, "scale → last pre-pull finished", s => s.MaxConcurrentPulls is null ? "—" : Optional(s.LastPrePullFinished));
        Row(text, columns, "new pod created → Ready, median", s => Seconds(Percentile(s.NewPodCreatedToReady, 0.5)));
        Row(text, columns, "new pod created → Ready, p90", s => Seconds(Percentile(s.NewPodCreatedToReady, 0.9)));
        Row(text, columns, "new pod created → Ready, max", s => Seconds(Percentile(s.NewPodCreatedToReady, 1)));
        Row(text, columns, "new pods that pulled the image", s => $"{s.NewPodPulls} of {s.NewPodCreatedToReady.Count} (on {s.NodesPulledByNewPods} nodes)");
        Row(text, columns, "time new pods spent waiting for the image, summed", s => Seconds(Sum(s.NewPodPullWaits)));
        Row(text, columns, "longest time one new pod waited for the image", s => Seconds(Longest(s.NewPodPullWaits)));
        Row(text, columns, "pre-pulls by Kwarm's pull pods", s => s.PrePulls.ToString(Invariant));
        Row(text, columns, "new pods on the joining nodes", s => $"{s.NewPodsOnJoiningNodes} of {s.NewPodCreatedToReady.Count}");
        text.AppendLine();
        text.AppendLine(Invariant, $"What the numbers mean: the image has to reach every joining node either way, and warm-up does not make the scale-out finish sooner; " +
            $"with Kwarm's defaults it finished {Difference(warm.AllReady - plain.AllReady)} than without warm-up, and with the cap raised to {uncapped.MaxConcurrentPulls}, " +
            $"{Difference(uncapped.AllReady - plain.AllReady)}. Without warm-up all {options.JoiningNodes} nodes pull at once, each as soon as its network is up; with Kwarm's defaults " +
            $"at most {ScaleOutBenchmark.DefaultMaxConcurrentPulls} pull at a time (`--max-concurrent-pulls`), so the {options.JoiningNodes} nodes took {(options.JoiningNodes + ScaleOutBenchmark.DefaultMaxConcurrentPulls - 1) / ScaleOutBenchmark.DefaultMaxConcurrentPulls} rounds of pulls " +
            $"and the pods of the last round waited for it; raising the cap removes that wait, and what is left ({Seconds(uncapped.AllReady - plain.AllReady)} here) is the warm-up's own steps: " +
            $"Kwarm creating the pull Job once the node is Ready, the pull pod's tools image and run, and the taint's removal before the scheduler may place the pods. " +
            $"What warm-up buys is where the waiting happens: without it {plain.NewPodPulls} of {plain.NewPodCreatedToReady.Count} new pods were bound to a node without the image and sat in `ContainerCreating` " +
            $"while it pulled (up to {Seconds(Longest(plain.NewPodPullWaits))} each); with it {warm.NewPodPulls} of {warm.NewPodCreatedToReady.Count} pulled: they stayed Pending until their node was warm, then started with the image there. " +
            $"A pull that fails (a wrong tag, a registry that refuses the node) shows up as a `NodeWarmupFailed` event on the node before any pod lands there, instead of as pods in `ImagePullBackOff` " +
            $"(not measured here: every pull in these runs succeeded). " +
            $"At time factor 1 every pull-bound figure would be {1 / options.TimeFactor:0.#} times longer; Kwarm's reaction times would not.").AppendLine();
        text.AppendLine(Invariant, $"- New pod created → Ready, without warm-up (ms, sorted): {Spans(plain.NewPodCreatedToReady)}.");
        text.AppendLine(Invariant, $"- New pod created → Ready, with warm-up (ms, sorted): {Spans(warm.NewPodCreatedToReady)}.");
        text.AppendLine(Invariant, $"- New pod created → Ready, with warm-up and `--max-concurrent-pulls {uncapped.MaxConcurrentPulls}` (ms, sorted): {Spans(uncapped.NewPodCreatedToReady)}.");
        text.AppendLine(Invariant, $"- Machine: {result.Machine}.");
        text.AppendLine(Invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on the shared machine: the simulator, Kwarm and whatever else ran share the cores, so the tails carry their noise.");
        return text.ToString();
    }

    private static void Row(StringBuilder text, IEnumerable<ScaleOutSample> columns, string measure, Func<ScaleOutSample, string> cell) =>
        text.AppendLine(Invariant, $"| {measure} | {string.Join(" | ", columns.Select(cell))} |");

    private static TimeSpan Percentile(IReadOnlyList<TimeSpan> spans, double quantile) =>
        spans.Count == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(NearestRank.Of([.. spans.Select(s => s.TotalSeconds).Order()], quantile));

    private static TimeSpan Sum(IReadOnlyList<TimeSpan> spans) => TimeSpan.FromTicks(spans.Sum(s => s.Ticks));

    private static TimeSpan Longest(IReadOnlyList<TimeSpan> spans) => spans.Count == 0 ? TimeSpan.Zero : spans.Max();

    private static string Difference(TimeSpan difference) =>
        difference >= TimeSpan.Zero ? $"{Seconds(difference)} later" : $"{Seconds(-difference)} sooner";

    private static string Optional(TimeSpan? span) => span is { } value ? Seconds(value) : "none";

    private static string Spans(IReadOnlyList<TimeSpan> spans) =>
        string.Join(", ", spans.Order().Select(s => s.TotalMilliseconds.ToString("0", Invariant)));

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.00 's'", Invariant);
}
