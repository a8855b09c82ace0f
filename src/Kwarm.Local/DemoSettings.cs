using System.Globalization;

namespace Kwarm.Local;

/// <summary>The guided run's few knobs. Any other argument is an error: Kwarm's own flags need a cluster.</summary>
/// <param name="Kwarm">Which Kwarm to run: the build beside this program unless <c>--kwarm PATH</c> names a native binary.</param>
public sealed record DemoSettings(int Nodes, TimeSpan Timeout, KwarmCommand Kwarm)
{
    public const int DefaultNodes = 20;

    public static DemoSettings? Parse(IReadOnlyList<string> args, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stderr);
        var settings = new DemoSettings(DefaultNodes, TimeSpan.FromMinutes(3), KwarmCommand.Built);
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "--nodes" && i + 1 < args.Count
                && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var nodes) && nodes is >= 1 and <= 500)
            {
                settings = settings with { Nodes = nodes };
            }
            else if (args[i] is "--kwarm" && i + 1 < args.Count)
            {
                try
                {
                    settings = settings with { Kwarm = KwarmCommand.Native(args[++i]) };
                }
                catch (FileNotFoundException missing)
                {
                    stderr.WriteLine($"kwarm demo: {missing.Message}");
                    return null;
                }
            }
            else
            {
                stderr.WriteLine($"kwarm demo: unexpected \"{args[i]}\": without a cluster the only options are --nodes N (1 to 500) and --kwarm PATH (a native Kwarm binary); " +
                    "give --kubeconfig PATH (or set KUBECONFIG) to run Kwarm against a cluster");
                return null;
            }
        }

        return settings;
    }
}
