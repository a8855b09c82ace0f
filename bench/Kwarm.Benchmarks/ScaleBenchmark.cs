using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Local;
using Kwarm.Resources;
using Kwarm.Simulator.Admission;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Benchmarks;

internal sealed record ScaleOptions
{
    public int Nodes { get; init; } = 1000;

    public int Deployments { get; init; } = 5000;

    public int Held { get; init; } = 200;

    public int Pools { get; init; } = 100;

    /// <summary>Simulated seconds per real second: 0.1 makes a 100–600 MB pull at 100 MB/s last 0.1–0.6 s.</summary>
    public double TimeFactor { get; init; } = 0.1;

    public TimeSpan Quiet { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Node counts of the growth table (the last one is the headline run); empty runs <see cref="Nodes"/> only.</summary>
    public IReadOnlyList<int> Growth { get; init; } = [];

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    public int Seed { get; init; } = 8;

    /// <summary>The storm of issue #18: mixed target sizes, the image changes spread over <see cref="Arrival"/>, sizes scaled with the nodes (see <see cref="WorkloadAt"/>).</summary>
    public bool Storm { get; init; }

    /// <summary>Kwarm's <c>--max-concurrent-pulls</c> (its default, 10, passes no flag).</summary>
    public int MaxConcurrentPulls { get; init; } = 10;

    /// <summary>Kwarm's <c>--max-pulls-per-node</c>: its default.</summary>
    public int MaxPullsPerNode { get; init; } = 2;

    /// <summary>The image changes are spread evenly over this long (zero: as fast as 20 clients can send them).</summary>
    public TimeSpan Arrival { get; init; }

    /// <summary>
    /// The workload at one node count. The scale run keeps its Deployments, holds and pools at every size (more nodes
    /// per pool); the storm scales them with the nodes (5 Deployments, 0.2 holds and 0.2 pools of 5 nodes per node),
    /// so every size is the same cluster shape and the growth table's fits separate the cost of each.
    /// </summary>
    public ScaleWorkload WorkloadAt(int nodes) => Storm
        ? new ScaleWorkload(nodes, nodes * DeploymentsPerNode, Math.Max(1, nodes / NodesPerHold), Math.Max(1, nodes / NodesPerPool), Seed, storm: true)
        : new ScaleWorkload(nodes, Deployments, Held, Pools, Seed);

    public const int DeploymentsPerNode = 5;
    public const int NodesPerHold = 5;
    public const int NodesPerPool = 5;

    /// <summary>Which Kwarm runs: <c>dotnet Kwarm.dll</c> unless <c>--kwarm</c> names the native binary the image ships.</summary>
    public KwarmCommand Kwarm { get; init; } = KwarmCommand.Built;

    /// <summary>The <c>--kwarm</c> argument as given, for the report's command line.</summary>
    public string? KwarmArgument { get; init; }

    public required string ReportPath { get; init; }

    public required string RepositoryRoot { get; init; }
}

/// <summary>API requests of one phase, by "verb resource[/subresource]".</summary>
internal sealed record RequestCounts(IReadOnlyDictionary<string, long> ByVerbAndResource)
{
    public long Total => ByVerbAndResource.Values.Sum();

    public static RequestCounts Between(IReadOnlyDictionary<AuditedRequest, long> before, IReadOnlyDictionary<AuditedRequest, long> after, string user) =>
        new(after.Where(pair => pair.Key.User == user)
            .Select(pair => (Key: Describe(pair.Key), Count: pair.Value - before.GetValueOrDefault(pair.Key)))
            .Where(pair => pair.Count > 0)
            .GroupBy(pair => pair.Key, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Sum(pair => pair.Count), StringComparer.Ordinal));

    private static string Describe(AuditedRequest request)
    {
        var resource = request.Group.Length == 0 ? request.Resource : $"{request.Resource}.{request.Group}";
        return $"{request.Verb} {resource}{(request.Subresource is null ? "" : "/" + request.Subresource)}";
    }
}

/// <summary>One hold of the run: when its image change was held and released (store commit times), and its own ideal time (its pulls alone under the caps).</summary>
internal sealed record HoldOutcome(HeldDeployment Held, int TargetNodes, DateTimeOffset HeldAt, DateTimeOffset ReleasedAt, TimeSpan Ideal)
{
    public TimeSpan Actual => ReleasedAt - HeldAt;

    /// <summary>Actual ÷ ideal: 1 is the hold finishing as fast as if it had the cluster to itself.</summary>
    public double Ratio => Ideal > TimeSpan.Zero ? Actual / Ideal : double.NaN;
}

/// <summary>One successful pull: the node, the normalised reference, when the kubelet was asked for it (waiting behind another pull on the node included) and when it ended.</summary>
internal sealed record FinishedPull(string Node, string Image, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);

internal sealed record ScaleResult
{
    public required ScaleWorkload Workload { get; init; }

    public required IdealSchedule Ideal { get; init; }

    public required TimeSpan Setup { get; init; }

    public required TimeSpan HoldSpread { get; init; }

    public required TimeSpan PrePullWall { get; init; }

    public required IReadOnlyList<TimeSpan> ReleaseLatencies { get; init; }

    public required int Released { get; init; }

    public required int PullsExpected { get; init; }

    public required int PullsDone { get; init; }

    public required int PullsAfterRelease { get; init; }

    public required bool Settled { get; init; }

    public required ProcessStats Cached { get; init; }

    /// <summary>Kwarm with the nodes cached and no Deployment yet: the per-node part of the growth fit.</summary>
    public required ProcessStats NodesCached { get; init; }

    /// <summary>Every hold with its times, in arrival order.</summary>
    public required IReadOnlyList<HoldOutcome> Holds { get; init; }

    /// <summary>A second Kwarm started against the full cluster after the run: process start to ready (caches synced).</summary>
    public required TimeSpan ColdStart { get; init; }

    /// <summary>That second Kwarm once ready: memory of the caches alone, nothing else done yet.</summary>
    public required ProcessStats ColdStartStats { get; init; }

    public required int MaxConcurrentPulls { get; init; }

    public required ProcessStats AfterHolds { get; init; }

    public required ProcessStats End { get; init; }

    public required RequestCounts SetupRequests { get; init; }

    public required RequestCounts HoldRequests { get; init; }

    public required RequestCounts QuietRequests { get; init; }

    public required TimeSpan QuietPeriod { get; init; }

    public required IReadOnlyList<double> WebhookImageChangeMs { get; init; }

    public required IReadOnlyList<double> WebhookAllMs { get; init; }

    public required int WebhookUnanswered { get; init; }

    /// <summary>Kwarm's own handling time of the webhook calls from the image changes to the last release.</summary>
    public required WebhookHandlingHistogram WebhookHandling { get; init; }

    public required string Machine { get; init; }

    public required string LoadAfter { get; init; }

    /// <summary>Per pull Job: from its creation to its pod asking the kubelet for the image (Job and pod controllers, scheduler, init container).</summary>
    public required IReadOnlyList<TimeSpan> JobStartups { get; init; }

    /// <summary>From one pull finishing to the next pull Job being created, while Jobs waited for a slot: Kwarm's reaction.</summary>
    public required IReadOnlyList<TimeSpan> SlotRefills { get; init; }

    /// <summary>Pulls running at once on average (pull time summed over the wall time): 10 would be the cap kept full.</summary>
    public required double MeanConcurrentPulls { get; init; }
}

/// <summary>
/// The scale run of issue #8 on the simulator: Kwarm in its own process (<see cref="KwarmProcess"/>, connected as its
/// service account so the API server's audit tells its requests apart), the workload of <see cref="ScaleWorkload"/>,
/// the held Deployments' images changed at once, then every hold followed to its release through the simulator's
/// own store, and the pulls through its kubelets' <see cref="PullLog"/>.
/// </summary>
internal static class ScaleBenchmark
{
    public const string KwarmUser = "system:serviceaccount:kwarm-system:kwarm";

    /// <summary>What the pull Job's init container runs for (copying the noop binary), in simulated time.</summary>
    public static readonly TimeSpan InitRun = TimeSpan.FromSeconds(0.1);

    public static async Task<ScaleResult> RunAsync(ScaleOptions options, int nodes, TextWriter output, CancellationToken cancellationToken)
    {
        var workload = options.WorkloadAt(nodes);
        var work = Directory.CreateTempSubdirectory("kwarm-scale-").FullName;
        var clock = Stopwatch.StartNew();
        void Say(string text) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{nodes} nodes {clock.Elapsed.TotalSeconds,6:0.0}s] {text}"));
        try
        {
            var machine = MachineDescription.Describe();
            var simulatorOptions = new SimulatorOptions
            {
                TimeFactor = options.TimeFactor,
                RecordEvents = false,
                KubeconfigPath = Path.Combine(work, "admin.kubeconfig"),
                CommandRunTime = InitRun,
                // Node Leases renewed every 10 s of real time whatever the time factor: 1,000 renewals a second would
                // load the simulator without telling anything about Kwarm, which does not read them.
                NodeHeartbeat = TimeSpan.FromSeconds(10 / options.TimeFactor),
            };
            await using var cluster = await SimulatedCluster.StartAsync(simulatorOptions, cancellationToken).ConfigureAwait(false);
            cluster.Registry.Add(new RegistryImage(ScaleWorkload.ToolsImage, ScaleWorkload.ToolsImageBytes));
            foreach (var image in ScaleWorkload.OldImages)
            {
                cluster.Registry.Add(new RegistryImage(image, ScaleWorkload.OldImageBytes));
            }

            foreach (var image in workload.HeldDeployments.SelectMany(held => held.NewImages))
            {
                cluster.Registry.Add(image);
            }

            cluster.AddNodes(workload.NodeSpecs());
            var observer = new HoldObserver(workload);
            cluster.Store.Subscribe(observer.OnStoreEvent);
            Say($"simulator up: {nodes} nodes in {workload.Pools} pools, time factor {options.TimeFactor}");

            using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));
            var kwarmKubeconfig = await cluster.CreateKubeconfigAsync(UserInfo.ServiceAccount(SimulatedKwarmInstall.Namespace, "kwarm"), Path.Combine(work, "kwarm.kubeconfig"), cancellationToken).ConfigureAwait(false);
            var command = options.MaxConcurrentPulls == 10
                ? options.Kwarm
                : options.Kwarm with { LeadingArguments = [.. options.Kwarm.LeadingArguments, "--max-concurrent-pulls", options.MaxConcurrentPulls.ToString(CultureInfo.InvariantCulture)] };
            await using var kwarm = await SimulatedKwarmInstall.InstallAsync(cluster, client, command, work, kwarmKubeconfig, cancellationToken).ConfigureAwait(false);
            await client.CustomObjects.CreateClusterCustomObjectAsync(Policy(), KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, cancellationToken: cancellationToken).ConfigureAwait(false);
            await WaitForQuietAsync(cluster, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var nodesCached = ProcessStats.Read(kwarm.ProcessId);
            Say($"Kwarm running as pid {kwarm.ProcessId} (log {kwarm.LogPath}); CRDs, webhook and policy installed; {nodes} nodes cached: RSS {ProcessStats.Mib(nodesCached.RssBytes)} MiB");

            for (var index = 0; index < ScaleWorkload.Namespaces; index++)
            {
                await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ScaleWorkload.NamespaceOf(index) } }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            await Parallel.ForEachAsync(Enumerable.Range(0, workload.Deployments), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (index, token) =>
                await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment(index, workload), ScaleWorkload.NamespaceOf(index), cancellationToken: token).ConfigureAwait(false)).ConfigureAwait(false);
            Say($"{workload.Deployments} Deployments created");
            var pods = cluster.Catalog.Get("", "pods");
            await WaitUntilAsync(() => cluster.Store.List(pods, null, pod => pod.Phase == "Running").Items.Count >= workload.Deployments, TimeSpan.FromMinutes(10), "every Deployment's pod running", cancellationToken).ConfigureAwait(false);
            await WaitUntilKwarmHoldsAsync(client, workload.HeldDeployments[0], cancellationToken).ConfigureAwait(false);
            await WaitForQuietAsync(cluster, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var setup = clock.Elapsed;
            var cached = ProcessStats.Read(kwarm.ProcessId);
            var auditCached = cluster.Audit.Snapshot();
            using var metricsClient = new HttpClient();
            var handlingBefore = await WebhookHandlingHistogram.ScrapeAsync(metricsClient, kwarm.MetricsUri, cancellationToken).ConfigureAwait(false);
            Say($"{workload.Deployments} pods running, Kwarm caught up: RSS {ProcessStats.Mib(cached.RssBytes)} MiB, {cached.Cpu.TotalSeconds:0.0} CPU s so far");

            // The image changes, as fast as 20 clients can send them (or spread evenly over --arrival): the holds
            // overlap as in a big release.
            var holdsSentAt = DateTimeOffset.UtcNow;
            var spacing = workload.Held > 0 ? options.Arrival / workload.Held : TimeSpan.Zero;
            await Parallel.ForEachAsync(workload.HeldDeployments, new ParallelOptions { MaxDegreeOfParallelism = 20, CancellationToken = cancellationToken }, async (held, token) =>
            {
                var due = holdsSentAt + spacing * held.Index - DateTimeOffset.UtcNow;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, token).ConfigureAwait(false);
                }

                await client.AppsV1.PatchNamespacedDeploymentAsync(ImagePatch(held), held.Name, held.Namespace, cancellationToken: token).ConfigureAwait(false);
            }).ConfigureAwait(false);
            Say($"{workload.Held} image changes sent in {(DateTimeOffset.UtcNow - holdsSentAt).TotalSeconds:0.0} s");

            var pullsExpected = workload.Pulls().Count();
            var heldImages = workload.HeldDeployments.SelectMany(held => held.NewImages).Select(image => ImageRegistry.Normalize(image.Reference)).ToHashSet(StringComparer.Ordinal);
            int PullsDone() => FinishedPulls(cluster).Count(pull => heldImages.Contains(pull.Image));
            var lastReport = TimeSpan.Zero;
            await WaitUntilAsync(() =>
            {
                if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(10))
                {
                    lastReport = clock.Elapsed;
                    Say($"held {observer.HeldCount}, released {observer.ReleasedCount}/{workload.Held}; pulls {PullsDone()}/{pullsExpected}; Kwarm RSS {ProcessStats.Mib(ProcessStats.Read(kwarm.ProcessId).RssBytes)} MiB");
                }

                return observer.ReleasedCount == workload.Held;
            }, options.Timeout, "every hold released", cancellationToken).ConfigureAwait(false);
            var afterHolds = ProcessStats.Read(kwarm.ProcessId);
            var handling = (await WebhookHandlingHistogram.ScrapeAsync(metricsClient, kwarm.MetricsUri, cancellationToken).ConfigureAwait(false)).Since(handlingBefore);
            Say($"all {workload.Held} holds released");

            // At rest: pull Jobs gone, the released rollouts done; then a quiet period in which Kwarm has nothing to do.
            var jobs = cluster.Catalog.Get("batch", "jobs");
            var settled = await TryWaitUntilAsync(() => cluster.Store.Count(jobs) == 0 && observer.RolledOutCount == workload.Held, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
            await WaitForQuietAsync(cluster, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            var auditSettled = cluster.Audit.Snapshot();
            await Task.Delay(options.Quiet, cancellationToken).ConfigureAwait(false);
            var auditEnd = cluster.Audit.Snapshot();
            var end = ProcessStats.Read(kwarm.ProcessId);
            Say($"settled{(settled ? "" : " (not fully: Jobs or rollouts left after 120 s)")}; {options.Quiet.TotalSeconds:0} s quiet period observed");

            // A restart against the full cluster: how long a new Kwarm takes to list and watch everything and be
            // ready, and what its caches alone weigh. It stays a follower (the first one holds the Lease).
            var coldStartedAt = Stopwatch.StartNew();
            ProcessStats coldStats;
            TimeSpan coldStart;
            await using (var second = await KwarmProcess.StartAsync(command, kwarmKubeconfig, Path.Combine(work, "serving-certs"), Path.Combine(work, "kwarm-cold.log"), cancellationToken).ConfigureAwait(false))
            {
                coldStart = coldStartedAt.Elapsed;
                coldStats = ProcessStats.Read(second.ProcessId);
            }

            Say($"a second Kwarm was ready {coldStart.TotalSeconds:0.0} s after its start, RSS {ProcessStats.Mib(coldStats.RssBytes)} MiB");

            var pulls = FinishedPulls(cluster).Where(pull => heldImages.Contains(pull.Image)).ToList();
            var latencies = new List<TimeSpan>();
            var pullsAfterRelease = 0;
            foreach (var held in workload.HeldDeployments)
            {
                var images = held.NewImages.Select(image => ImageRegistry.Normalize(image.Reference)).ToHashSet(StringComparer.Ordinal);
                var released = observer.ReleasedAt(held.Key);
                var own = pulls.Where(pull => images.Contains(pull.Image)).ToList();
                pullsAfterRelease += own.Count(pull => pull.FinishedAt > released);
                var before = own.Where(pull => pull.FinishedAt <= released).ToList();
                if (before.Count > 0)
                {
                    latencies.Add(released - before.Max(pull => pull.FinishedAt));
                }
            }

            var (startups, refills) = observer.JobTimings(pulls);
            var calls = cluster.Webhooks.CallLog.Snapshot();
            var imageChanges = calls.Where(call => call.Operation == "UPDATE" && call.SentAt >= holdsSentAt && observer.IsHeld($"{call.Namespace}/{call.Name}")).ToList();
            var firstHold = observer.FirstHeldAt;
            IdealSchedule IdealOf(IEnumerable<(string Node, RegistryImage Image)> work) =>
                IdealSchedule.Compute(work, options.MaxConcurrentPulls, options.MaxPullsPerNode, InitRun, simulatorOptions.NodeBandwidthBytesPerSecond, options.TimeFactor);
            return new ScaleResult
            {
                Workload = workload,
                Ideal = IdealOf(workload.Pulls()),
                NodesCached = nodesCached,
                Holds = [.. workload.HeldDeployments.Select(held => new HoldOutcome(held, workload.NodesOf(held.Target).Count, observer.HeldAt(held.Key), observer.ReleasedAt(held.Key), IdealOf(workload.PullsOf(held)).Value))],
                ColdStart = coldStart,
                ColdStartStats = coldStats,
                MaxConcurrentPulls = options.MaxConcurrentPulls,
                Setup = setup,
                HoldSpread = observer.LastHeldAt - firstHold,
                PrePullWall = (pulls.Count == 0 ? firstHold : pulls.Max(pull => pull.FinishedAt)) - firstHold,
                ReleaseLatencies = latencies,
                Released = observer.ReleasedCount,
                PullsExpected = pullsExpected,
                PullsDone = pulls.Count,
                PullsAfterRelease = pullsAfterRelease,
                Settled = settled,
                Cached = cached,
                AfterHolds = afterHolds,
                End = end,
                SetupRequests = RequestCounts.Between(new Dictionary<AuditedRequest, long>(), auditCached, KwarmUser),
                HoldRequests = RequestCounts.Between(auditCached, auditSettled, KwarmUser),
                QuietRequests = RequestCounts.Between(auditSettled, auditEnd, KwarmUser),
                QuietPeriod = options.Quiet,
                WebhookImageChangeMs = [.. imageChanges.Where(call => call.Answered).Select(call => call.Duration.TotalMilliseconds)],
                WebhookAllMs = [.. calls.Where(call => call.Answered).Select(call => call.Duration.TotalMilliseconds)],
                WebhookUnanswered = calls.Count(call => !call.Answered),
                WebhookHandling = handling,
                Machine = machine,
                LoadAfter = MachineDescription.LoadAverage(),
                JobStartups = startups,
                SlotRefills = refills,
                MeanConcurrentPulls = pulls.Count == 0 ? 0 : pulls.Sum(pull => (pull.FinishedAt - pull.StartedAt).TotalSeconds) / (pulls.Max(pull => pull.FinishedAt) - pulls.Min(pull => pull.StartedAt)).TotalSeconds,
            };
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // A log still being flushed: the temporary directory is left to the OS.
            }
        }
    }

    /// <summary>The successful pulls of every node so far, from the simulator's kubelets, with normalised references.</summary>
    private static IReadOnlyList<FinishedPull> FinishedPulls(SimulatedCluster cluster) =>
        [.. cluster.Pulls.Where(pull => pull.Succeeded).Select(pull => new FinishedPull(pull.Node, ImageRegistry.Normalize(pull.Image), pull.RequestedAt, pull.FinishedAt))];

    private static PrePullPolicy Policy() => new()
    {
        Metadata = new V1ObjectMeta { Name = "scale" },
        Spec = new PrePullPolicySpec
        {
            Selector = new DeploymentSelector { MatchLabels = new Dictionary<string, string> { [KwarmApi.EnabledLabel] = "true" } },
            // Long enough that no hold of the run is released by its deadline instead of by warm nodes.
            Hold = new HoldSpec { MaxDuration = "1h" },
        },
    };

    private static V1Deployment Deployment(int index, ScaleWorkload workload)
    {
        var name = ScaleWorkload.NameOf(index);
        var labels = new Dictionary<string, string> { ["app"] = name };
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ScaleWorkload.NamespaceOf(index), Labels = new Dictionary<string, string> { ["app"] = name, [KwarmApi.EnabledLabel] = "true" } },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        NodeSelector = workload.TargetOf(index).NodeSelector is { } selector ? new Dictionary<string, string>(selector) : null,
                        Containers = [.. Enumerable.Range(1, ScaleWorkload.ContainersOf(index)).Select(container => new V1Container
                        {
                            Name = $"c{container}",
                            Image = ScaleWorkload.OldImages[container - 1],
                        })],
                    },
                },
            },
        };
    }

    private static V1Patch ImagePatch(HeldDeployment held)
    {
        var containers = new JsonArray([.. held.NewImages.Select((image, index) => (JsonNode)new JsonObject { ["name"] = $"c{index + 1}", ["image"] = image.Reference })]);
        var patch = new JsonObject { ["spec"] = new JsonObject { ["template"] = new JsonObject { ["spec"] = new JsonObject { ["containers"] = containers } } } };
        return new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch);
    }

    /// <summary>Kwarm decides from its caches: once a dry-run image change comes back held, it has the policy and the Deployments.</summary>
    private static async Task WaitUntilKwarmHoldsAsync(k8s.Kubernetes client, HeldDeployment probe, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var answer = await client.AppsV1.PatchNamespacedDeploymentAsync(ImagePatch(probe), probe.Name, probe.Namespace, dryRun: "All", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (answer.Spec.Paused == true)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Kwarm's webhook never held a dry-run image change: see its log");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until Kwarm has sent no request for <paramref name="quiet"/> (its caches filled, its work done), or gives up after <paramref name="within"/>.</summary>
    private static async Task WaitForQuietAsync(SimulatedCluster cluster, TimeSpan quiet, TimeSpan within, CancellationToken cancellationToken)
    {
        long Count() => cluster.Audit.Snapshot().Where(pair => pair.Key.User == KwarmUser && pair.Key.Resource != "leases").Sum(pair => pair.Value);
        var deadline = Stopwatch.StartNew();
        var last = Count();
        var since = Stopwatch.StartNew();
        while (since.Elapsed < quiet && deadline.Elapsed < within)
        {
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            var now = Count();
            if (now != last)
            {
                last = now;
                since.Restart();
            }
        }
    }

    // Every 100 ms: the conditions at this scale count thousands of stored objects, which must not load the cores Kwarm is measured on.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan within, string what, CancellationToken cancellationToken) =>
        Polling.UntilAsync(condition, what, within, PollInterval, cancellationToken);

    private static Task<bool> TryWaitUntilAsync(Func<bool> condition, TimeSpan within, CancellationToken cancellationToken) =>
        Polling.TryUntilAsync(condition, within, PollInterval, cancellationToken);

    /// <summary>
    /// Follows the held Deployments in the simulator's store: the listener runs under the store's lock, so it only
    /// stamps the change and queues it; the stamp is the commit time of the write that paused or unpaused.
    /// </summary>
    private sealed class HoldObserver(ScaleWorkload workload)
    {
        private readonly HashSet<string> _held = workload.HeldDeployments.Select(held => held.Key).ToHashSet(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, DateTimeOffset> _heldAt = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, DateTimeOffset> _releasedAt = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, bool> _rolledOut = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<(DateTimeOffset At, byte[] Json)> _jobsCreated = new();

        public int HeldCount => _heldAt.Count;

        public int ReleasedCount => _releasedAt.Count;

        public int RolledOutCount => _rolledOut.Count(pair => pair.Value);

        public DateTimeOffset FirstHeldAt => _heldAt.Values.DefaultIfEmpty().Min();

        public DateTimeOffset LastHeldAt => _heldAt.Values.DefaultIfEmpty().Max();

        public bool IsHeld(string key) => _held.Contains(key);

        public DateTimeOffset HeldAt(string key) => _heldAt.TryGetValue(key, out var at) ? at : DateTimeOffset.MinValue;

        public DateTimeOffset ReleasedAt(string key) => _releasedAt.TryGetValue(key, out var at) ? at : DateTimeOffset.MaxValue;

        /// <summary>
        /// Matches each pull Job's creation with its pull (same node and image) to time the Job's start-up, and each
        /// Job creation with the latest pull that finished before it, when it came within a second, to time how fast a
        /// freed slot was refilled.
        /// </summary>
        public (IReadOnlyList<TimeSpan> Startups, IReadOnlyList<TimeSpan> Refills) JobTimings(IReadOnlyList<FinishedPull> pulls)
        {
            var byTarget = pulls.GroupBy(pull => (pull.Node, pull.Image)).ToDictionary(group => group.Key, group => group.Min(pull => pull.StartedAt));
            var finished = pulls.Select(pull => pull.FinishedAt).Order().ToArray();
            var startups = new List<TimeSpan>();
            var refills = new List<TimeSpan>();
            foreach (var (at, json) in _jobsCreated)
            {
                var job = JsonNode.Parse(json);
                var spec = job?["spec"]?["template"]?["spec"];
                var image = spec?["containers"]?.AsArray().FirstOrDefault(container => container?["name"]?.GetValue<string>() == "pull")?["image"]?.GetValue<string>();
                var node = spec?["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?[0]?["matchFields"]?[0]?["values"]?[0]?.GetValue<string>();
                if (image is not null && node is not null && byTarget.TryGetValue((node, ImageRegistry.Normalize(image)), out var started) && started >= at)
                {
                    startups.Add(started - at);
                }

                var previous = Array.BinarySearch(finished, at);
                previous = previous >= 0 ? previous : ~previous - 1;
                if (previous >= 0 && at - finished[previous] < TimeSpan.FromSeconds(1))
                {
                    refills.Add(at - finished[previous]);
                }
            }

            return (startups, refills);
        }

        public void OnStoreEvent(StoreEvent change)
        {
            if (change.Type == Kwarm.Simulator.Api.WatchEventType.Added && change.Object.Type.StorageKey == "jobs.batch")
            {
                _jobsCreated.Enqueue((DateTimeOffset.UtcNow, change.Object.Json));
                return;
            }

            if (change.Object.Type.StorageKey != "deployments.apps" || !_held.Contains(change.Object.Key))
            {
                return;
            }

            var at = DateTimeOffset.UtcNow;
            var deployment = change.Object.ToNode();
            var paused = deployment["spec"]?["paused"]?.GetValue<bool>() == true;
            var annotations = deployment["metadata"]?["annotations"] as JsonObject;
            var key = change.Object.Key;
            if (paused && annotations?[KwarmApi.HoldAnnotation] is not null)
            {
                _heldAt.TryAdd(key, at);
            }
            else if (!paused && annotations?[KwarmApi.ReleasedAnnotation] is not null && _heldAt.ContainsKey(key))
            {
                _releasedAt.TryAdd(key, at);
            }

            if (_releasedAt.ContainsKey(key))
            {
                var status = deployment["status"];
                _rolledOut[key] = status?["observedGeneration"]?.GetValue<long>() == deployment["metadata"]?["generation"]?.GetValue<long>()
                    && status?["updatedReplicas"]?.GetValue<long>() == 1 && status?["availableReplicas"]?.GetValue<long>() == 1
                    && (status?["replicas"]?.GetValue<long>() ?? 0) == 1;
            }
        }
    }
}
