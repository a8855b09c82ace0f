using Microsoft.Extensions.Logging;

namespace Kwarm.Simulator.Attached;

/// <summary><c>Kwarm.Simulator nodes</c>: attaches simulated nodes to an API server until stopped (Ctrl+C or SIGTERM).</summary>
public static class NodesCommand
{
    /// <returns>The exit code: 0 after a clean stop, 2 for options or a kubeconfig that cannot be used, 1 when the cluster refused the nodes.</returns>
    public static async Task<int> RunAsync(AttachOptions options, bool deleteNodesOnExit, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        }));
        var logger = logging.CreateLogger("Kwarm.Simulator.Nodes");
        AttachedNodes nodes;
        try
        {
            nodes = AttachedNodes.Connect(options, logger);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or k8s.Exceptions.KubeConfigException)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }

        var exitCode = 0;
        await using (nodes.ConfigureAwait(false))
        {
            try
            {
                // Registration is interruptible: a stop while it runs ends as a stop does, nodes deleted when asked.
                await nodes.RegisterConfiguredNodesAsync(stop).ConfigureAwait(false);
                Console.WriteLine($"{nodes.NodeNames.Count} simulated nodes attached to {nodes.Server}: {string.Join(", ", nodes.NodeNames.Order(StringComparer.Ordinal))}");
                Console.WriteLine("Press Ctrl+C to stop.");
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Console.WriteLine("stopping");
            }
            catch (Exception e) when (e is Api.ApiException or HttpRequestException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"could not register the nodes with the cluster: {e.Message}").ConfigureAwait(false);
                exitCode = 1;
            }

            if (deleteNodesOnExit)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await nodes.DeleteNodesAsync(grace.Token).ConfigureAwait(false);
            }
        }

        return exitCode;
    }
}
