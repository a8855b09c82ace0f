using Microsoft.Extensions.Logging;

namespace Kwarm.Local;

/// <summary>
/// The playground: the guided run's <see cref="LocalCluster"/> (simulated cluster, Kwarm installed from deploy/, the
/// sample policy and Deployment rolled out), left running for kubectl by hand. It prints the <c>export KUBECONFIG=...</c>
/// line and the commands to try, then waits for Ctrl+C or SIGTERM, stops Kwarm and the cluster and removes its work
/// directory (kubeconfig, certificates, Kwarm's log).
/// </summary>
public sealed class Playground(LocalSettings settings, TextWriter output, ILoggerFactory logging)
{
    /// <summary>The line the playground prints once it is ready, before the commands; tests wait for it.</summary>
    public const string ReadyLine = "Kwarm playground ready.";

    /// <returns>0 after a stop asked for by <paramref name="stop"/>; 1 when the playground could not start.</returns>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        using var work = new WorkDirectory("kwarm-playground-");
        output.WriteLine($"Starting the Kwarm playground: a simulated cluster of {settings.Nodes} nodes, Kwarm installed from deploy/, the sample policy and Deployment.");
        LocalCluster local;
        try
        {
            local = await LocalCluster.StartAsync(settings.Nodes, settings.Kwarm, work.Path, logging, line => output.WriteLine("  " + line), stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            output.WriteLine($"Stopped before the playground was ready; removed {work.Path}.");
            return 0;
        }
        catch (Exception failure) when (failure is InvalidOperationException or TimeoutException or HttpRequestException or k8s.Autorest.HttpOperationException)
        {
            output.WriteLine($"The playground could not start: {failure.Message}");
            work.PrintLogTail("kwarm.log", output);
            return 1;
        }

        await using (local.ConfigureAwait(false))
        {
            PrintInstructions(local, work.Path);
            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                output.WriteLine("Stopping Kwarm and the simulated cluster...");
            }
        }

        output.WriteLine($"Stopped; removed {work.Path}. In the shells where you exported it: unset KUBECONFIG");
        return 0;
    }

    /// <summary>The commands printed to try, after <c>export KUBECONFIG=...</c>; the README's "Try it by hand" shows them.</summary>
    public static IReadOnlyList<(string Command, string Comment)> Commands { get; } =
    [
        ("kubectl get nodes", ""),
        ($"kubectl set image deployment/web web={LocalCluster.NewImage}", ""),
        ("kubectl get deployment web -o wide -w", "paused: UP-TO-DATE stays 0 until the release (Ctrl+C ends a watch)"),
        ("kubectl get prepullimages -o wide -w", "the pre-pull: Completed/Total nodes"),
        ("kubectl rollout status deployment/web", "waits for the release, then for the rollout"),
        ("kubectl describe deployment web", "events HoldStarted and HoldReleased"),
    ];

    private void PrintInstructions(LocalCluster local, string work)
    {
        var width = Commands.Where(command => command.Comment.Length > 0).Max(command => command.Command.Length) + 2;
        output.WriteLine();
        output.WriteLine(ReadyLine + $" PrePullPolicy \"{local.PolicyName}\" holds Deployment \"{LocalCluster.DeploymentName}\" (namespace {LocalCluster.Namespace}, 3 replicas of {LocalCluster.OldImage}).");
        output.WriteLine("In another terminal:");
        output.WriteLine();
        output.WriteLine($"  export KUBECONFIG={local.KubeconfigPath}");
        foreach (var (command, comment) in Commands)
        {
            output.WriteLine(comment.Length == 0 ? "  " + command : "  " + command.PadRight(width) + "# " + comment);
        }

        output.WriteLine();
        output.WriteLine($"Any other image pulls too (50 MiB); {LocalCluster.NewImage} is 300 MiB (3 s per node at 100 MB/s), and");
        output.WriteLine($"{LocalCluster.MissingImage} does not exist: its pulls fail (ErrImagePull) and, after the policy's 3 attempts (about");
        output.WriteLine("a minute and a half), the hold is released with PullFailed; the new pods then fail to pull as on a cluster.");
        output.WriteLine($"Kwarm's log: {local.Kwarm.LogPath}");
        output.WriteLine();
        output.WriteLine($"Ctrl+C or SIGTERM stops Kwarm and the cluster and removes {work}.");
        output.Flush();
    }
}
