using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Hosting;

/// <summary>
/// The scale benchmark: N nodes and P pods (as Deployments of 50 replicas) in one process, then a bounded burst
/// of API requests from concurrent clients. Prints a Markdown section for docs/benchmarks.md.
/// </summary>
public static class Benchmark
{
    public static async Task<string> RunAsync(int nodes, int pods, TimeSpan loadDuration, int clients, CancellationToken cancellationToken)
    {
        var options = new SimulatorOptions { Nodes = 0, TimeFactor = 0.001, RecordEvents = false };
        var startedAt = Stopwatch.StartNew();
        await using var cluster = await SimulatedCluster.StartAsync(options, cancellationToken).ConfigureAwait(false);
        cluster.AddNodes(nodes);
        var nodesReady = startedAt.Elapsed;
        var (heapNodes, rssNodes) = Memory();

        using var http = cluster.CreateHttpClient();
        await Send(http, HttpMethod.Post, "/api/v1/namespaces", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "bench" } }, cancellationToken).ConfigureAwait(false);
        const int perDeployment = 50;
        var deployments = (pods + perDeployment - 1) / perDeployment;
        var podsStarted = Stopwatch.StartNew();
        for (var i = 0; i < deployments; i++)
        {
            var replicas = Math.Min(perDeployment, pods - (i * perDeployment));
            await Send(http, HttpMethod.Post, "/apis/apps/v1/namespaces/bench/deployments", Deployment($"app-{i:000}", replicas), cancellationToken).ConfigureAwait(false);
        }

        var podType = cluster.Catalog.Get("", "pods");
        while (cluster.Store.List(podType, "bench", p => p.Phase == "Running").Items.Count < pods)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        var allRunning = podsStarted.Elapsed;
        var (heapPods, rssPods) = Memory();
        var objects = cluster.Catalog.All.Sum(t => cluster.Store.Count(t));

        // Bounded load: each client loops over a GET, a selective LIST and a PATCH until the duration ends.
        var latencies = new Dictionary<string, List<double>> { ["get pod"] = [], ["list pods (label selector)"] = [], ["patch deployment"] = [] };
        var errors = 0;
        var gate = new Lock();
        var names = cluster.Store.List(podType, "bench").Items.Select(p => p.Name).ToArray();
        var before = cluster.RequestCount;
        var load = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, clients).Select(worker => Task.Run(
            async () =>
            {
                var random = new Random(worker);
                while (load.Elapsed < loadDuration && !cancellationToken.IsCancellationRequested)
                {
                    var app = $"app-{random.Next(deployments):000}";
                    var requests = new (string Kind, HttpMethod Method, string Path, JsonNode? Body)[]
                    {
                        ("get pod", HttpMethod.Get, $"/api/v1/namespaces/bench/pods/{names[random.Next(names.Length)]}", null),
                        ("list pods (label selector)", HttpMethod.Get, $"/api/v1/namespaces/bench/pods?labelSelector=app%3D{app}", null),
                        ("patch deployment", HttpMethod.Patch, $"/apis/apps/v1/namespaces/bench/deployments/{app}", new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["bench"] = random.Next().ToString(CultureInfo.InvariantCulture) } } }),
                    };
                    foreach (var (kind, method, path, body) in requests)
                    {
                        var watch = Stopwatch.StartNew();
                        var ok = await TrySend(http, method, path, body, cancellationToken).ConfigureAwait(false);
                        lock (gate)
                        {
                            latencies[kind].Add(watch.Elapsed.TotalMilliseconds);
                            errors += ok ? 0 : 1;
                        }
                    }
                }
            },
            cancellationToken)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = load.Elapsed;
        var served = cluster.RequestCount - before;

        var report = new StringBuilder();
        report.AppendLine("## Simulator");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd} on this project's machine ({Environment.ProcessorCount} cores, .NET {Environment.Version}), Release build, one process:");
        report.AppendLine("`dotnet run -c Release --project src/Kwarm.Simulator -- --benchmark --nodes " + nodes.ToString(CultureInfo.InvariantCulture) + " --pods " + pods.ToString(CultureInfo.InvariantCulture) + "`.");
        report.AppendLine("Time factor 0.001 (a 50 MB pull at 100 MB/s takes 0.5 ms), Event objects off, node Lease heartbeat every 10 s.");
        report.AppendLine();
        report.AppendLine("| measure | value |");
        report.AppendLine("| --- | --- |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| nodes registered (Node + Lease each) | {nodes} in {nodesReady.TotalSeconds:0.0} s (including server start) |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| managed heap / RSS with {nodes} nodes | {heapNodes:0} MiB / {rssNodes:0} MiB |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| pods created, scheduled, pulled and Running ({deployments} Deployments) | {pods} in {allRunning.TotalSeconds:0.0} s |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| managed heap / RSS with {nodes} nodes + {pods} pods ({objects} objects stored) | {heapPods:0} MiB / {rssPods:0} MiB |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| API requests served under load ({clients} concurrent HTTPS clients, {elapsed.TotalSeconds:0} s) | {served / elapsed.TotalSeconds:0} requests/s, {errors} errors |");
        foreach (var (kind, values) in latencies)
        {
            values.Sort();
            report.AppendLine(CultureInfo.InvariantCulture, $"| latency of {kind} (p50 / p99) | {Percentile(values, 0.5):0.0} ms / {Percentile(values, 0.99):0.0} ms |");
        }

        report.AppendLine();
        report.AppendLine("Heap is `GC.GetTotalMemory(forceFullCollection: true)`; RSS is the process working set, load clients included.");
        return report.ToString();
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static (double HeapMiB, double RssMiB) Memory()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true) / 1024.0 / 1024.0;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (heap, process.WorkingSet64 / 1024.0 / 1024.0);
    }

    private static JsonObject Deployment(string name, int replicas) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app"] = name } },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "app",
                        ["image"] = $"registry.local/bench/{name}:1",
                        ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["cpu"] = "10m", ["memory"] = "16Mi" } },
                    }),
                },
            },
        },
    };

    private static async Task Send(HttpClient http, HttpMethod method, string path, JsonNode body, CancellationToken cancellationToken)
    {
        if (!await TrySend(http, method, path, body, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"{method} {path} failed");
        }
    }

    private static async Task<bool> TrySend(HttpClient http, HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(method == HttpMethod.Patch ? "application/merge-patch+json" : "application/json");
        }

        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }
}
