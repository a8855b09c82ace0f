using System.Globalization;

namespace Kwarm.Local;

/// <summary>The run command's own options. Any other argument is an error: Kwarm's own flags need a cluster.</summary>
/// <param name="Kwarm">Which Kwarm to run: the build beside this program unless <c>--kwarm PATH</c> names a native binary.</param>
public sealed record LocalSettings(LocalMode Mode, int Nodes, TimeSpan Timeout, KwarmCommand Kwarm)
{
    public const int DefaultDemoNodes = 20;

    /// <summary>Fewer nodes than the demo: <c>kubectl get nodes</c> and the pre-pull fit on one screen.</summary>
    public const int DefaultPlaygroundNodes = 5;

    public const int MaxNodes = 500;

    public static string Usage => $"""
        Usage: dotnet run --project src/Kwarm.Local [-- OPTIONS]

        With a cluster at hand (--kubeconfig PATH, KWARM_KUBECONFIG, KUBECONFIG, the in-cluster service account or
        ~/.kube/config) this is Kwarm itself, with every flag listed below. Without one, it starts the built-in cluster
        simulator, installs Kwarm from deploy/, applies the sample PrePullPolicy and Deployment, and then:
          (no option)    changes the Deployment's image and prints the timeline: held, pulling n/N, released,
                         rollout complete; exits 0 when the new pods found their image on the nodes
          --playground   leaves the cluster and Kwarm running and prints the kubectl commands to try by hand;
                         Ctrl+C or SIGTERM stops everything and removes its temporary folder (exit 0)
        Options without a cluster:
          --nodes N      simulated nodes, 1 to {MaxNodes} (default {DefaultDemoNodes}; {DefaultPlaygroundNodes} with --playground)
          --kwarm PATH   run this native Kwarm binary (dotnet publish src/Kwarm -c Release -o DIR) instead of the build
          --help, -h     print this help and exit
        --playground runs without a cluster even when one is configured.

        """;

    /// <summary>Whether <paramref name="args"/> asks for the playground or the help, which never go to a cluster.</summary>
    public static bool StaysLocal(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Any(arg => arg is "--playground" or "--help" or "-h");
    }

    /// <summary>The settings, or null after writing one line saying what is wrong to <paramref name="stderr"/>.</summary>
    public static LocalSettings? Parse(IReadOnlyList<string> args, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Any(arg => arg is "--help" or "-h"))
        {
            return new LocalSettings(LocalMode.Help, DefaultDemoNodes, TimeSpan.Zero, KwarmCommand.Built);
        }

        var mode = args.Contains("--playground") ? LocalMode.Playground : LocalMode.Demo;
        int? nodes = null;
        var kwarm = KwarmCommand.Built;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--playground":
                    break;
                case "--nodes" when i + 1 < args.Count
                    && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= MaxNodes:
                    nodes = count;
                    break;
                case "--nodes":
                    stderr.WriteLine($"kwarm: --nodes needs a number from 1 to {MaxNodes}");
                    return null;
                case "--kwarm" when i + 1 < args.Count:
                    try
                    {
                        kwarm = KwarmCommand.Native(args[++i]);
                    }
                    catch (FileNotFoundException missing)
                    {
                        stderr.WriteLine($"kwarm: {missing.Message}");
                        return null;
                    }

                    break;
                case "--kwarm":
                    stderr.WriteLine("kwarm: --kwarm needs the path of a native Kwarm binary");
                    return null;
                default:
                    stderr.WriteLine($"kwarm: unknown option \"{args[i]}\" without a cluster (options: --playground, --nodes N, --kwarm PATH; --help lists them, and Kwarm's flags need --kubeconfig PATH or KUBECONFIG)");
                    return null;
            }
        }

        var defaultNodes = mode == LocalMode.Playground ? DefaultPlaygroundNodes : DefaultDemoNodes;
        return new LocalSettings(mode, nodes ?? defaultNodes, TimeSpan.FromMinutes(3), kwarm);
    }
}
