using System.Globalization;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;

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

Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

// SIGTERM (a process supervisor, kill) stops as cleanly as Ctrl+C does.
using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

if (parsed.Attach is not null)
{
    return await NodesCommand.RunAsync(parsed.Attach, parsed.DeleteNodesOnExit, stop.Token).ConfigureAwait(false);
}

SimulatedCluster cluster;
try
{
    cluster = await SimulatedCluster.StartAsync(parsed.Options, stop.Token).ConfigureAwait(false);
}
catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException)
{
    await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
    return 2;
}

await using var running = cluster;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Kwarm cluster simulator listening on {cluster.ServerUri} with {parsed.Options.Nodes} nodes"));
Console.WriteLine($"kubeconfig: {cluster.KubeconfigPath}");
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
