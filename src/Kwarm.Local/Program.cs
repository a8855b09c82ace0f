using System.Runtime.InteropServices;
using Kwarm;
using Kwarm.Hosting;
using Kwarm.Local;
using Microsoft.Extensions.Logging;

// With a cluster at hand this is Kwarm itself; without one (or with --playground), a run on the built-in cluster simulator.
var environment = KwarmHost.ProcessEnvironment();
if (!LocalSettings.StaysLocal(args) && KwarmApplication.FindsCluster(args, environment))
{
    return await KwarmApplication.RunAsync(args, environment, Console.Out, Console.Error, CancellationToken.None).ConfigureAwait(false);
}

var settings = LocalSettings.Parse(args, Console.Error);
if (settings is null)
{
    return 2;
}

if (settings.Mode == LocalMode.Help)
{
    Console.Write(LocalSettings.Usage);
    Console.WriteLine();
    Console.WriteLine("With a cluster, Kwarm's own flags:");
    return await KwarmApplication.RunAsync(["--help"], environment, Console.Out, Console.Error, CancellationToken.None).ConfigureAwait(false);
}

// Ctrl+C and SIGTERM both stop the run: Kwarm gets a SIGTERM, the cluster stops, the work directory goes.
using var stop = new CancellationTokenSource();
PosixSignal? received = null;
void Stop(PosixSignalContext signal)
{
    signal.Cancel = true;
    received ??= signal.Signal;
    stop.Cancel();
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

// The simulator's own warnings (a webhook that could not be called) go to stderr, as kube-apiserver's log would.
using var logging = LoggerFactory.Create(builder => builder
    .AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.UseUtcTimestamp = true;
        console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
    })
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
    .AddFilter((category, _) => category?.StartsWith("Kwarm.Simulator", StringComparison.Ordinal) == true));

if (settings.Mode == LocalMode.Playground)
{
    return await new Playground(settings, Console.Out, logging).RunAsync(stop.Token).ConfigureAwait(false);
}

try
{
    return await new HoldDemo(settings, Console.Out, logging).RunAsync(stop.Token).ConfigureAwait(false);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    // Stopped by hand before the rollout completed: the conventional 128 + signal number.
    Console.WriteLine("Stopped before the end of the run.");
    return received == PosixSignal.SIGTERM ? 143 : 130;
}
