using System.Globalization;
using Kwarm.Local;

namespace Kwarm.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale [--nodes 1000] [--deployments 5000] [--held 200]
/// [--pools 100] [--time-factor 0.1] [--quiet 20] [--growth] [--kwarm PATH] [--report docs/benchmarks.md]</c>
/// </summary>
internal static class ScaleCommandLine
{
    private static readonly int[] GrowthSizes = [100, 300];

    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale [options]

          --nodes N          simulated nodes (default 1000)
          --deployments N    Deployments of one replica each, all selected by the policy (default 5000)
          --held N           Deployments whose images change at once, 1-3 images each (default 200)
          --pools N          node pools; each Deployment's pods are pinned to one (default 100)
          --time-factor X    simulated time scale: 0.1 runs ten times faster than real time (default 0.1)
          --quiet S          seconds of the idle period whose requests are counted (default 20)
          --growth           run at 100, 300 and --nodes nodes and add the growth table
          --timeout S        give up if the holds are not all released by then (default 1800)
          --kwarm PATH       run this native Kwarm binary (`dotnet publish src/Kwarm -c Release -o DIR` writes DIR/Kwarm,
                             as the image ships it) instead of `dotnet Kwarm.dll`
          --report PATH      markdown file whose "## Scale" section is rewritten (default docs/benchmarks.md)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args.Any(argument => argument is "-h" or "--help"))
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 0;
        }

        ScaleOptions options;
        try
        {
            options = Parse(args);
        }
        catch (FormatException exception)
        {
            await output.WriteLineAsync($"error: {exception.Message}\n\n{Usage}").ConfigureAwait(false);
            return 1;
        }

        var loadBefore = MachineDescription.LoadAverage();
        var sizes = options.Growth.Count > 0 ? options.Growth : [options.Nodes];
        var results = new List<ScaleResult>();
        foreach (var nodes in sizes)
        {
            results.Add(await ScaleBenchmark.RunAsync(options, nodes, output, cancellationToken).ConfigureAwait(false));
        }

        var markdown = ScaleReport.Render(options, results, loadBefore);
        BenchmarkReport.WriteSection(options.ReportPath, ScaleReport.Heading, markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}").ConfigureAwait(false);
        return 0;
    }

    private static ScaleOptions WithKwarm(ScaleOptions options, string path)
    {
        try
        {
            return options with { Kwarm = KwarmCommand.Native(path), KwarmArgument = path };
        }
        catch (FileNotFoundException missing)
        {
            throw new FormatException(missing.Message, missing);
        }
    }

    internal static ScaleOptions Parse(string[] args)
    {
        var root = BenchmarkCommandLine.RepositoryRoot();
        var options = new ScaleOptions { ReportPath = Path.Combine(root, "docs", "benchmarks.md"), RepositoryRoot = root };
        var growth = false;
        for (var index = 0; index < args.Length; index++)
        {
            string Value() => index + 1 < args.Length ? args[++index] : throw new FormatException($"{args[index]} needs a value");
            options = args[index] switch
            {
                "--nodes" => options with { Nodes = Positive(Value(), "--nodes") },
                "--deployments" => options with { Deployments = Positive(Value(), "--deployments") },
                "--held" => options with { Held = Positive(Value(), "--held") },
                "--pools" => options with { Pools = Positive(Value(), "--pools") },
                "--time-factor" => options with { TimeFactor = Factor(Value()) },
                "--quiet" => options with { Quiet = TimeSpan.FromSeconds(Positive(Value(), "--quiet")) },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(Positive(Value(), "--timeout")) },
                "--report" => options with { ReportPath = Path.GetFullPath(Value()) },
                "--kwarm" => WithKwarm(options, Value()),
                "--growth" => options,
                var unknown => throw new FormatException($"unknown option {unknown}"),
            };
            growth |= args[index] == "--growth";
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

    private static int Positive(string value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new FormatException($"{name} must be a positive whole number, got '{value}'");

    private static double Factor(string value) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var factor) && factor is > 0 and <= 1
            ? factor
            : throw new FormatException($"--time-factor must be a number in (0, 1], got '{value}'");
}
