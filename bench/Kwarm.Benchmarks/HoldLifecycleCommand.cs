namespace Kwarm.Benchmarks;

/// <summary>How the hold-lifecycle benchmark runs.</summary>
internal sealed record HoldLifecycleOptions
{
    public int Holds { get; init; } = 20;

    public int Nodes { get; init; } = 20;

    public int Replicas { get; init; } = 20;

    /// <summary>The simulator's time factor: pulls and container starts take this fraction of their modelled time.</summary>
    public double TimeFactor { get; init; } = 0.1;

    /// <summary>Size of each image the release-latency holds pre-pull (and of the comparison's old image).</summary>
    public int HoldImageMiB { get; init; } = 300;

    /// <summary>Size of the new image in the with/without comparison.</summary>
    public int RolloutImageMiB { get; init; } = 1000;

    /// <summary>Whether to run the with/without-Kwarm rollout comparison after the holds.</summary>
    public bool Rollouts { get; init; } = true;

    public required string ReportPath { get; init; }
}

/// <summary>
/// <c>dotnet run -c Release --project bench/Kwarm.Benchmarks -- holds [--holds 20] [--nodes 20] [--replicas 20]
/// [--time-factor 0.1] [--hold-image-mib 300] [--rollout-image-mib 1000] [--no-rollouts] [--report docs/benchmarks.md]</c>
/// </summary>
internal static class HoldLifecycleCommand
{
    public const string Heading = "## Hold lifecycle";

    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Kwarm.Benchmarks -- holds [options]

          --holds N              holds measured one after another (default 20)
          --nodes N              simulated nodes (default 20)
          --replicas N           replicas of the Deployment (default 20)
          --time-factor F        simulator time factor, 0 < F <= 1 (default 0.1: a 1000 MiB pull at 100 MiB/s takes 1 s)
          --hold-image-mib N     size of each held image (default 300)
          --rollout-image-mib N  size of the new image in the with/without-Kwarm rollout (default 1000)
          --no-rollouts          measure the holds only
          --report PATH          markdown file whose "## Hold lifecycle" section is rewritten (default docs/benchmarks.md)
        """;

    public static Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken) =>
        BenchmarkArguments.RunAsync(args, Usage, Parse, options => RunAsync(options, output, cancellationToken), output);

    private static async Task<int> RunAsync(HoldLifecycleOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var result = await HoldLifecycleBenchmark.RunAsync(options, output, cancellationToken).ConfigureAwait(false);
        var markdown = HoldLifecycleReport.Render(options, result);
        BenchmarkReport.WriteSection(options.ReportPath, Heading, markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}; Kwarm's log of the holds: {result.KwarmLogPath}").ConfigureAwait(false);
        return 0;
    }

    public static HoldLifecycleOptions Parse(IReadOnlyList<string> args)
    {
        var options = new HoldLifecycleOptions { ReportPath = Path.Combine(BenchmarkArguments.RepositoryRoot(), "docs", "benchmarks.md") };
        return BenchmarkArguments.Fold(args, options, (flag, value, options) => flag switch
        {
            "--holds" => options with { Holds = BenchmarkArguments.Whole(value(), flag, 1, 500) },
            "--nodes" => options with { Nodes = BenchmarkArguments.Whole(value(), flag, 1, 500) },
            "--replicas" => options with { Replicas = BenchmarkArguments.Whole(value(), flag, 1, 500) },
            "--time-factor" => options with { TimeFactor = BenchmarkArguments.TimeFactor(value()) },
            "--hold-image-mib" => options with { HoldImageMiB = BenchmarkArguments.Whole(value(), flag, 1, 100_000) },
            "--rollout-image-mib" => options with { RolloutImageMiB = BenchmarkArguments.Whole(value(), flag, 1, 100_000) },
            "--no-rollouts" => options with { Rollouts = false },
            "--report" => options with { ReportPath = Path.GetFullPath(value()) },
            _ => null,
        });
    }
}
