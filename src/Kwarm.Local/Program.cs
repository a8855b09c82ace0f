using Kwarm;
using Kwarm.Hosting;
using Kwarm.Local;

// With a cluster at hand this is Kwarm itself; without one, a guided run on the built-in cluster simulator.
var environment = KwarmHost.ProcessEnvironment();
if (KwarmApplication.FindsCluster(args, environment))
{
    return await KwarmApplication.RunAsync(args, environment, Console.Out, Console.Error, CancellationToken.None).ConfigureAwait(false);
}

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, press) =>
{
    press.Cancel = true;
    interrupt.Cancel();
};

var settings = DemoSettings.Parse(args, Console.Error);
if (settings is null)
{
    return 2;
}

return await new HoldDemo(settings, Console.Out).RunAsync(interrupt.Token).ConfigureAwait(false);
