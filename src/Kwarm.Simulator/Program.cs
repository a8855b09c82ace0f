using System.Globalization;
using System.Runtime.InteropServices;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;
using Microsoft.Extensions.Logging;

var parsed = CommandLine.Parse(args);
if (parsed.Error is not null)
{
    // One line that says what is wrong; the usage is one --help away.
    await Console.Error.WriteLineAsync($"{parsed.Error} (see --help)").ConfigureAwait(false);
    return 2;
}

if (parsed.Help)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

using var stop = new CancellationTokenSource();
if (parsed.Benchmark)
{
    var report = await Benchmark.RunAsync(parsed.Options.Nodes, parsed.BenchmarkPods, TimeSpan.FromSeconds(10), 8, stop.Token).ConfigureAwait(false);
    Console.WriteLine(report);
    return 0;
}

// Ctrl+C and SIGTERM (a service manager, `kill`, a test) both stop the cluster cleanly.
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

// What kube-apiserver would log (a webhook that failed open, an unmapped webhook Service) goes to stderr.
using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.UseUtcTimestamp = true;
    console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
}).AddFilter((category, _) => category?.StartsWith("Kwarm.Simulator", StringComparison.Ordinal) == true));
var options = parsed.Options with { LoggerFactory = logging };

if (parsed.Attach is not null)
{
    return await NodesCommand.RunAsync(parsed.Attach, parsed.DeleteNodesOnExit, stop.Token).ConfigureAwait(false);
}

SimulatedCluster cluster;
try
{
    cluster = await SimulatedCluster.StartAsync(options, stop.Token).ConfigureAwait(false);
}
catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException)
{
    await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
    return 2;
}

await using var running = cluster;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Kwarm cluster simulator listening on {cluster.ServerUri} with {options.Nodes} nodes"));
Console.WriteLine($"kubeconfig: {cluster.KubeconfigPath}");
foreach (var (service, endpoint) in options.WebhookServices)
{
    Console.WriteLine($"webhook Service {service} -> https://{endpoint}");
}

Console.WriteLine($"try: kubectl --kubeconfig {cluster.KubeconfigPath} get nodes");
Console.WriteLine("Press Ctrl+C to stop.");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
}
catch (OperationCanceledException)
{
    Console.WriteLine("stopping");
}

return 0;

void Stop(PosixSignalContext signal)
{
    // Handled here: the process ends through the normal path, so the cluster is disposed.
    signal.Cancel = true;
    stop.Cancel();
}
