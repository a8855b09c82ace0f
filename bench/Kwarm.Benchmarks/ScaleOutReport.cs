using System.Globalization;
using System.Text;

namespace Kwarm.Benchmarks;

/// <summary>Renders the scale-out benchmark as the <c>## Scale-out with warm nodes</c> section of docs/benchmarks.md.</summary>
internal static class ScaleOutReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(ScaleOutOptions options, ScaleOutResult result)
    {
        var (plain, warm) = (result.Plain, result.Warmup);
        var newPods = options.ReplicasAfter - options.ReplicasBefore;
        var pullSeconds = options.ImageMiB / 100.0;
        var text = new StringBuilder();
        text.AppendLine(ScaleOutCommand.Heading).AppendLine();
        text.AppendLine(Invariant, $"Issue #17: {options.JoiningNodes} nodes join while a Deployment with a {options.ImageMiB} MiB image scales from {options.ReplicasBefore} to {options.ReplicasAfter} replicas, " +
            $"without and with Kwarm's node warm-up. **Result:** all {options.ReplicasAfter} Ready after {Seconds(plain.AllReady)} without warm-up and {Seconds(warm.AllReady)} with it; " +
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
            $"then lifts the taint, and only then are the new pods placed there.").AppendLine();
        text.AppendLine("Times run from the nodes joining and the scale, on the simulator's commits (`SimulatedCluster.PodLifecycles`, a store listener for the Nodes' taints and Ready condition) " +
            "and the simulated kubelets' pull log (`SimulatedCluster.Pulls`). A new pod \"pulled\" when its kubelet asked the node's runtime for the image: a node's first such pod transfers it, " +
            "the second waits in the node's one-at-a-time pull queue and then finds it. Percentiles are nearest-rank.").AppendLine();
        text.AppendLine("| measure | without warm-up | with warm-up |").AppendLine("| --- | ---: | ---: |");
        text.AppendLine(Invariant, $"| scale → all {options.ReplicasAfter} replicas Ready | {Seconds(plain.AllReady)} | {Seconds(warm.AllReady)} |");
        text.AppendLine(Invariant, $"| scale → last joining node Ready (network started) | {Seconds(plain.LastNodeReady)} | {Seconds(warm.LastNodeReady)} |");
        text.AppendLine(Invariant, $"| scale → first / last warming taint lifted | — | {Optional(warm.FirstWarmingLifted)} / {Optional(warm.LastWarmingLifted)} |");
        text.AppendLine(Invariant, $"| scale → last pre-pull finished | — | {Optional(warm.LastPrePullFinished)} |");
        text.AppendLine(Invariant, $"| new pod created → Ready, median | {Seconds(Percentile(plain.NewPodCreatedToReady, 0.5))} | {Seconds(Percentile(warm.NewPodCreatedToReady, 0.5))} |");
        text.AppendLine(Invariant, $"| new pod created → Ready, p90 | {Seconds(Percentile(plain.NewPodCreatedToReady, 0.9))} | {Seconds(Percentile(warm.NewPodCreatedToReady, 0.9))} |");
        text.AppendLine(Invariant, $"| new pod created → Ready, max | {Seconds(Percentile(plain.NewPodCreatedToReady, 1))} | {Seconds(Percentile(warm.NewPodCreatedToReady, 1))} |");
        text.AppendLine(Invariant, $"| new pods that pulled the image | {plain.NewPodPulls} of {plain.NewPodCreatedToReady.Count} (on {plain.NodesPulledByNewPods} nodes) | {warm.NewPodPulls} of {warm.NewPodCreatedToReady.Count} (on {warm.NodesPulledByNewPods} nodes) |");
        text.AppendLine(Invariant, $"| time new pods spent waiting for the image, summed | {Seconds(Sum(plain.NewPodPullWaits))} | {Seconds(Sum(warm.NewPodPullWaits))} |");
        text.AppendLine(Invariant, $"| longest time one new pod waited for the image | {Seconds(Longest(plain.NewPodPullWaits))} | {Seconds(Longest(warm.NewPodPullWaits))} |");
        text.AppendLine(Invariant, $"| pre-pulls by Kwarm's pull pods | {plain.PrePulls} | {warm.PrePulls} |");
        text.AppendLine(Invariant, $"| new pods on the joining nodes | {plain.NewPodsOnJoiningNodes} of {plain.NewPodCreatedToReady.Count} | {warm.NewPodsOnJoiningNodes} of {warm.NewPodCreatedToReady.Count} |");
        text.AppendLine();
        text.AppendLine(Invariant, $"What the numbers mean: the image has to reach every joining node either way, so warm-up does not make the scale-out finish sooner; here it finished " +
            $"{Difference(warm.AllReady - plain.AllReady)}. Without warm-up all {options.JoiningNodes} nodes pull at once, each as soon as its network is up; with it Kwarm pulls at most 10 at a time " +
            $"(`--max-concurrent-pulls`), so {options.JoiningNodes} nodes take {(options.JoiningNodes + 9) / 10} rounds of pulls, and every pod waits for its node's taint to come off. " +
            $"What warm-up buys is where the waiting happens: without it every new pod is bound to a node that lacks the image and sits in `ContainerCreating` for the pull " +
            $"(a Pending pod the autoscaler has answered, but a bound one no other node can take); with it the new pods stay Pending, no new pod pulls, and each starts in a container start once placed. " +
            $"A pull that fails (a wrong tag, a registry that refuses the node) shows up as a `NodeWarmupFailed` event on the node before any pod lands there, instead of as pods in `ImagePullBackOff`. " +
            $"At time factor 1 every pull-bound figure would be {1 / options.TimeFactor:0.#} times longer; Kwarm's reaction times would not.").AppendLine();
        text.AppendLine(Invariant, $"- New pod created → Ready, without warm-up (ms, sorted): {Spans(plain.NewPodCreatedToReady)}.");
        text.AppendLine(Invariant, $"- New pod created → Ready, with warm-up (ms, sorted): {Spans(warm.NewPodCreatedToReady)}.");
        text.AppendLine(Invariant, $"- Machine: {result.Machine}.");
        text.AppendLine(Invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on the shared machine: the simulator, Kwarm and whatever else ran share the cores, so the tails carry their noise.");
        return text.ToString();
    }

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
