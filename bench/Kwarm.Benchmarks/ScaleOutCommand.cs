namespace Kwarm.Benchmarks;

/// <summary>How the scale-out benchmark runs.</summary>
internal sealed record ScaleOutOptions
{
    /// <summary>Nodes before the scale-out, each full with one of the Deployment's pods.</summary>
    public int Nodes { get; init; } = 20;

    /// <summary>Nodes that join at the scale-out, each with room for two of the Deployment's pods.</summary>
    public int JoiningNodes { get; init; } = 20;

    /// <summary>The simulator's time factor: pulls, container starts and the joining nodes' network start take this fraction of their modelled time.</summary>
    public double TimeFactor { get; init; } = 0.1;

    public int ImageMiB { get; init; } = 2048;

    /// <summary>How long (simulated) a joining node stays NotReady with the not-ready taint, as a real node does while its CNI starts.</summary>
    public int NetworkReadySeconds { get; init; } = 20;

    public required string ReportPath { get; init; }

    /// <summary>Replicas before the scale-out: one per existing node.</summary>
    public int ReplicasBefore => Nodes;

    /// <summary>Replicas after it: the existing nodes' and two per joining node, exactly the room there is.</summary>
    public int ReplicasAfter => Nodes + (2 * JoiningNodes);
}

/// <summary>
/// <c>dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale-out [--nodes 20] [--joining 20] [--time-factor 0.1]
/// [--image-mib 2048] [--network-ready 20] [--report docs/benchmarks.md]</c>
/// </summary>
internal static class ScaleOutCommand
{
    public const string Heading = "## Scale-out with warm nodes";

    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Kwarm.Benchmarks -- scale-out [options]

          --nodes N            nodes before the scale-out, one pod of the Deployment each (default 20)
          --joining N          nodes that join at the scale-out, two pods each; the Deployment scales from
                               --nodes to --nodes + 2 x --joining replicas (default 20: 20 to 60)
          --time-factor F      simulator time factor, 0 < F <= 1 (default 0.1: a 2048 MiB pull at 100 MiB/s takes 2 s)
          --image-mib N        size of the Deployment's image (default 2048)
          --network-ready S    simulated seconds a joining node stays NotReady while its network starts (default 20)
          --report PATH        markdown file whose "## Scale-out with warm nodes" section is rewritten (default docs/benchmarks.md)
        """;

    public static Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken) =>
        BenchmarkArguments.RunAsync(args, Usage, Parse, options => RunAsync(options, output, cancellationToken), output);

    private static async Task<int> RunAsync(ScaleOutOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var result = await ScaleOutBenchmark.RunAsync(options, output, cancellationToken).ConfigureAwait(false);
        var markdown = ScaleOutReport.Render(options, result);
        BenchmarkReport.WriteSection(options.ReportPath, Heading, markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}").ConfigureAwait(false);
        return 0;
    }

    public static ScaleOutOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ScaleOutOptions { ReportPath = Path.Combine(BenchmarkArguments.RepositoryRoot(), "docs", "benchmarks.md") };
        return BenchmarkArguments.Fold(args, options, (flag, value, options) => flag switch
        {
            "--nodes" => options with { Nodes = BenchmarkArguments.Whole(value(), flag, 1, 500) },
            "--joining" => options with { JoiningNodes = BenchmarkArguments.Whole(value(), flag, 1, 500) },
            "--time-factor" => options with { TimeFactor = BenchmarkArguments.TimeFactor(value()) },
            "--image-mib" => options with { ImageMiB = BenchmarkArguments.Whole(value(), flag, 1, 100_000) },
            "--network-ready" => options with { NetworkReadySeconds = BenchmarkArguments.Whole(value(), flag, 0, 3600) },
            "--report" => options with { ReportPath = Path.GetFullPath(value()) },
            _ => null,
        });
    }
}
