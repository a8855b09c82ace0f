namespace Kwarm.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale [--nodes 1000] [--deployments 5000] [--held 200]
/// [--pools 100] [--time-factor 0.1] [--quiet 20] [--growth] [--kwarm PATH] [--report docs/benchmarks.md]</c>, and the
/// storm of issue #18: <c>scale --storm [--nodes 5000] [--growth] ...</c>.
/// </summary>
internal static class ScaleCommandLine
{
    private static readonly int[] GrowthSizes = [100, 300];
    private static readonly int[] StormGrowthSizes = [500, 1000, 2000];

    /// <summary>The storm's defaults: a cluster at Kubernetes' limits, caps raised to what it would use.</summary>
    private const int StormNodes = 5000;
    private const int StormMaxConcurrentPulls = 200;
    private static readonly TimeSpan StormArrival = TimeSpan.FromSeconds(10);
    private const double StormTimeFactor = 1.0;

    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale [options]

          --nodes N          simulated nodes (default 1000)
          --deployments N    Deployments of one replica each, all selected by the policy (default 5000)
          --held N           Deployments whose images change at once, 1-3 images each (default 200)
          --pools N          node pools; each Deployment's pods are pinned to one (default 100)
          --time-factor X    simulated time scale: 0.1 runs ten times faster than real time (default 0.1)
          --quiet S          seconds of the idle period whose requests are counted (default 20)
          --growth           run at 100, 300 and --nodes nodes (storm: 500, 1000, 2000 and --nodes) and add the growth table
          --storm            issue #18's storm: 5,000 nodes, 5 Deployments and 0.2 holds per node (25,000 and 1,000),
                             mixed target sizes (every node, zones of 500, racks of 50, pools of 5), the image changes
                             spread over --arrival, --max-concurrent-pulls 200, time factor 1; report section "## Storm"
          --max-concurrent-pulls N
                             Kwarm's cluster-wide pull cap (default 10, Kwarm's own; 200 with --storm)
          --arrival S        spread the image changes evenly over S seconds (default 0; 10 with --storm)
          --timeout S        give up if the holds are not all released by then (default 1800)
          --kwarm PATH       run this native Kwarm binary (`dotnet publish src/Kwarm -c Release -o DIR` writes DIR/Kwarm,
                             as the image ships it) instead of `dotnet Kwarm.dll`
          --report PATH      markdown file whose "## Scale" section is rewritten (default docs/benchmarks.md)
        """;

    public static Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken) =>
        BenchmarkArguments.RunAsync(args, Usage, Parse, options => RunAsync(options, output, cancellationToken), output);

    private static async Task<int> RunAsync(ScaleOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var loadBefore = MachineDescription.LoadAverage();
        var sizes = options.Growth.Count > 0 ? options.Growth : [options.Nodes];
        var results = new List<ScaleResult>();
        foreach (var nodes in sizes)
        {
            results.Add(await ScaleBenchmark.RunAsync(options, nodes, output, cancellationToken).ConfigureAwait(false));
        }

        var markdown = options.Storm ? StormReport.Render(options, results, loadBefore) : ScaleReport.Render(options, results, loadBefore);
        BenchmarkReport.WriteSection(options.ReportPath, options.Storm ? StormReport.Heading : ScaleReport.Heading, markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}").ConfigureAwait(false);
        return 0;
    }

    internal static ScaleOptions Parse(IReadOnlyList<string> args)
    {
        var root = BenchmarkArguments.RepositoryRoot();
        var options = new ScaleOptions { ReportPath = Path.Combine(root, "docs", "benchmarks.md"), RepositoryRoot = root };
        if (args.Contains("--storm"))
        {
            options = options with
            {
                Storm = true,
                Nodes = StormNodes,
                MaxConcurrentPulls = StormMaxConcurrentPulls,
                Arrival = StormArrival,
                TimeFactor = StormTimeFactor,
            };
        }

        options = BenchmarkArguments.Fold(args, options, (flag, value, options) => flag switch
        {
            "--nodes" => options with { Nodes = BenchmarkArguments.Positive(value(), flag) },
            "--deployments" => options with { Deployments = BenchmarkArguments.Positive(value(), flag) },
            "--held" => options with { Held = BenchmarkArguments.Positive(value(), flag) },
            "--pools" => options with { Pools = BenchmarkArguments.Positive(value(), flag) },
            "--time-factor" => options with { TimeFactor = BenchmarkArguments.TimeFactor(value()) },
            "--quiet" => options with { Quiet = TimeSpan.FromSeconds(BenchmarkArguments.Positive(value(), flag)) },
            "--timeout" => options with { Timeout = TimeSpan.FromSeconds(BenchmarkArguments.Positive(value(), flag)) },
            "--report" => options with { ReportPath = Path.GetFullPath(value()) },
            "--kwarm" => value() is var path ? options with { Kwarm = BenchmarkArguments.NativeKwarm(path), KwarmArgument = path } : options,
            "--max-concurrent-pulls" => options with { MaxConcurrentPulls = BenchmarkArguments.Positive(value(), flag) },
            "--arrival" => options with { Arrival = TimeSpan.FromSeconds(BenchmarkArguments.Positive(value(), flag)) },
            "--growth" or "--storm" => options,
            _ => null,
        });
        var growth = args.Contains("--growth");

        if (options.Storm)
        {
            var (storm, growthSizes) = (options, args.Contains("--growth") ? [.. StormGrowthSizes.Where(size => size < options.Nodes), options.Nodes] : Array.Empty<int>());
            return storm with { Growth = growthSizes };
        }

        if (options.Held > options.Deployments)
        {
            throw new FormatException($"--held ({options.Held}) cannot exceed --deployments ({options.Deployments})");
        }

        if (options.Pools > options.Nodes)
        {
            throw new FormatException($"--pools ({options.Pools}) cannot exceed --nodes ({options.Nodes}): every pool needs a node");
        }

        if (growth)
        {
            int[] sizes = [.. GrowthSizes.Where(size => size < options.Nodes && size >= options.Pools), options.Nodes];
            options = options with { Growth = sizes };
        }

        return options;
    }
}
