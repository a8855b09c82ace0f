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
            nodes = await AttachedNodes.StartAsync(options, logger, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or k8s.Exceptions.KubeConfigException)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
        catch (Exception e) when (e is Api.ApiException or HttpRequestException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"could not register the nodes with the cluster: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        await using (nodes.ConfigureAwait(false))
        {
            Console.WriteLine($"{nodes.NodeNames.Count} simulated nodes attached to {nodes.Server}: {string.Join(", ", nodes.NodeNames.Order(StringComparer.Ordinal))}");
            Console.WriteLine("Press Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("stopping");
            }

            if (deleteNodesOnExit)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await nodes.DeleteNodesAsync(grace.Token).ConfigureAwait(false);
            }
        }

        return 0;
    }
}
