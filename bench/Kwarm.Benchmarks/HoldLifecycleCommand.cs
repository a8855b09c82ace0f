using System.Globalization;

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

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args is ["-h" or "--help"])
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 0;
        }

        HoldLifecycleOptions options;
        try
        {
            options = Parse(args);
        }
        catch (FormatException exception)
        {
            await output.WriteLineAsync($"error: {exception.Message}\n\n{Usage}").ConfigureAwait(false);
            return 1;
        }

        var result = await HoldLifecycleBenchmark.RunAsync(options, output, cancellationToken).ConfigureAwait(false);
        var markdown = HoldLifecycleReport.Render(options, result);
        BenchmarkReport.WriteSection(options.ReportPath, Heading, markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}; Kwarm's log of the holds: {result.KwarmLogPath}").ConfigureAwait(false);
        return 0;
    }

    public static HoldLifecycleOptions Parse(IReadOnlyList<string> args)
    {
        var options = new HoldLifecycleOptions { ReportPath = Path.Combine(RepositoryRoot(), "docs", "benchmarks.md") };
        for (var index = 0; index < args.Count; index++)
        {
            string Value() => index + 1 < args.Count ? args[++index] : throw new FormatException($"{args[index]} needs a value");
            options = args[index] switch
            {
                "--holds" => options with { Holds = Whole(Value(), "--holds", 1, 500) },
                "--nodes" => options with { Nodes = Whole(Value(), "--nodes", 1, 500) },
                "--replicas" => options with { Replicas = Whole(Value(), "--replicas", 1, 500) },
                "--time-factor" => options with { TimeFactor = Factor(Value()) },
                "--hold-image-mib" => options with { HoldImageMiB = Whole(Value(), "--hold-image-mib", 1, 100_000) },
                "--rollout-image-mib" => options with { RolloutImageMiB = Whole(Value(), "--rollout-image-mib", 1, 100_000) },
                "--no-rollouts" => options with { Rollouts = false },
                "--report" => options with { ReportPath = Path.GetFullPath(Value()) },
                var unknown => throw new FormatException($"unknown option {unknown}"),
            };
        }

        return options;
    }

    private static int Whole(string value, string name, int minimum, int maximum) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= minimum && number <= maximum
            ? number
            : throw new FormatException($"{name} must be a whole number from {minimum} to {maximum}, got '{value}'");

    private static double Factor(string value) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var factor) && factor > 0 && factor <= 1
            ? factor
            : throw new FormatException($"--time-factor must be a number above 0 and at most 1, got '{value}'");

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Kwarm.sln")))
            {
                return directory.FullName;
            }
        }

        return Environment.CurrentDirectory;
    }
}
