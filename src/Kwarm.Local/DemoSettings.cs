using System.Globalization;

namespace Kwarm.Local;

/// <summary>The guided run's few knobs. Any other argument is an error: Kwarm's own flags need a cluster.</summary>
public sealed record DemoSettings(int Nodes, TimeSpan Timeout)
{
    public const int DefaultNodes = 20;

    public static DemoSettings? Parse(IReadOnlyList<string> args, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stderr);
        var settings = new DemoSettings(DefaultNodes, TimeSpan.FromMinutes(3));
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "--nodes" && i + 1 < args.Count
                && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var nodes) && nodes is >= 1 and <= 500)
            {
                settings = settings with { Nodes = nodes };
            }
            else
            {
                stderr.WriteLine($"kwarm demo: unexpected \"{args[i]}\": without a cluster the only option is --nodes N (1 to 500); " +
                    "give --kubeconfig PATH (or set KUBECONFIG) to run Kwarm against a cluster");
                return null;
            }
        }

        return settings;
    }
}
