namespace Kwarm.Benchmarks;

/// <summary>How the DaemonSet rollout benchmark runs.</summary>
internal sealed record DaemonSetRolloutOptions
{
    public int Nodes { get; init; } = 20;

    /// <summary>The simulator's time factor: pulls and container starts take this fraction of their modelled time.</summary>
    public double TimeFactor { get; init; } = 0.1;

    public int OldImageMiB { get; init; } = 300;

    public int NewImageMiB { get; init; } = 1000;

    public required string ReportPath { get; init; }
}

/// <summary>
/// <c>dotnet run -c Release --project bench/Kwarm.Benchmarks -- daemonset [--nodes 20] [--time-factor 0.1]
/// [--old-image-mib 300] [--new-image-mib 1000] [--report docs/benchmarks.md]</c>
/// </summary>
internal static class DaemonSetRolloutCommand
{
    public const string Heading = "## DaemonSet rollout";

    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Kwarm.Benchmarks -- daemonset [options]

          --nodes N            simulated nodes, one daemon pod each (default 20)
          --time-factor F      simulator time factor, 0 < F <= 1 (default 0.1: a 1000 MiB pull at 100 MiB/s takes 1 s)
          --old-image-mib N    size of the image the DaemonSet runs first (default 300)
          --new-image-mib N    size of the image it is changed to (default 1000)
          --report PATH        markdown file whose "## DaemonSet rollout" section is rewritten (default docs/benchmarks.md)
        """;

    public static Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken) =>
        BenchmarkArguments.RunAsync(args, Usage, Parse, options => RunAsync(options, output, cancellationToken), output);

    private static async Task<int> RunAsync(DaemonSetRolloutOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var result = await DaemonSetRolloutBenchmark.RunAsync(options, output, cancellationToken).ConfigureAwait(false);
        var markdown = DaemonSetRolloutReport.Render(options, result);
        BenchmarkReport.WriteSection(options.ReportPath, Heading, markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}").ConfigureAwait(false);
        return 0;
    }

    public static DaemonSetRolloutOptions Parse(IReadOnlyList<string> args)
    {
        var options = new DaemonSetRolloutOptions { ReportPath = Path.Combine(BenchmarkArguments.RepositoryRoot(), "docs", "benchmarks.md") };
        return BenchmarkArguments.Fold(args, options, (flag, value, options) => flag switch
        {
            "--nodes" => options with { Nodes = BenchmarkArguments.Whole(value(), flag, 1, 500) },
            "--time-factor" => options with { TimeFactor = BenchmarkArguments.TimeFactor(value()) },
            "--old-image-mib" => options with { OldImageMiB = BenchmarkArguments.Whole(value(), flag, 1, 100_000) },
            "--new-image-mib" => options with { NewImageMiB = BenchmarkArguments.Whole(value(), flag, 1, 100_000) },
            "--report" => options with { ReportPath = Path.GetFullPath(value()) },
            _ => null,
        });
    }
}
