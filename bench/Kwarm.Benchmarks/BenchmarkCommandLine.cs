namespace Kwarm.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Kwarm.Benchmarks -- webhook [--rate 500] [--duration 30] [--warmup 5]
/// [--fixture PATH] [--report docs/benchmarks.md] [--http2]</c>
/// </summary>
internal static class BenchmarkCommandLine
{
    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Kwarm.Benchmarks -- webhook [options]

          --rate N        requests per second, open loop (default 500)
          --duration S    measured seconds (default 30)
          --warmup S      seconds at the same rate before measuring, not recorded (default 5)
          --fixture PATH  AdmissionReview to post (default tests/fixtures/admission/update-deployment-set-image.json)
          --report PATH   markdown file whose "## Webhook" section is rewritten (default docs/benchmarks.md)
          --http2         use HTTP/2 instead of HTTP/1.1

        The other benchmarks: holds, daemonset, scale-out, scale and webhook-memory (each takes --help).
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args is ["holds", .. var holdArguments])
        {
            return await HoldLifecycleCommand.RunAsync(holdArguments, output, cancellationToken).ConfigureAwait(false);
        }

        if (args is ["daemonset", .. var daemonSetArguments])
        {
            return await DaemonSetRolloutCommand.RunAsync(daemonSetArguments, output, cancellationToken).ConfigureAwait(false);
        }

        if (args is ["scale-out", .. var scaleOutArguments])
        {
            return await ScaleOutCommand.RunAsync(scaleOutArguments, output, cancellationToken).ConfigureAwait(false);
        }

        if (args is ["load", .. var loadArguments])
        {
            return await LoadGenerator.RunAsync(loadArguments, output, cancellationToken).ConfigureAwait(false);
        }

        if (args is ["webhook-memory", .. var memoryArguments])
        {
            return await WebhookMemoryCommand.RunAsync(memoryArguments, output, cancellationToken).ConfigureAwait(false);
        }

        if (args is ["scale", .. var scaleArguments])
        {
            return await ScaleCommandLine.RunAsync(scaleArguments, output, cancellationToken).ConfigureAwait(false);
        }

        if (args.Length == 0 || args[0] != "webhook")
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 1;
        }

        return await BenchmarkArguments.RunAsync(args[1..], Usage, Parse, options => RunWebhookAsync(options, output, cancellationToken), output).ConfigureAwait(false);
    }

    private static async Task<int> RunWebhookAsync(WebhookBenchmarkOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var result = await WebhookBenchmark.RunAsync(options, output, cancellationToken).ConfigureAwait(false);
        var markdown = BenchmarkReport.Render(options, result);
        BenchmarkReport.WriteSection(options.ReportPath, "## Webhook", markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}").ConfigureAwait(false);
        return 0;
    }

    private static WebhookBenchmarkOptions Parse(IReadOnlyList<string> args)
    {
        var root = BenchmarkArguments.RepositoryRoot();
        var options = new WebhookBenchmarkOptions
        {
            FixturePath = Path.Combine(root, "tests", "fixtures", "admission", "update-deployment-set-image.json"),
            ReportPath = Path.Combine(root, "docs", "benchmarks.md"),
        };

        options = BenchmarkArguments.Fold(args, options, (flag, value, options) => flag switch
        {
            "--rate" => options with { Rate = BenchmarkArguments.Positive(value(), flag) },
            "--duration" => options with { Duration = TimeSpan.FromSeconds(BenchmarkArguments.Positive(value(), flag)) },
            "--warmup" => options with { Warmup = TimeSpan.FromSeconds(BenchmarkArguments.Positive(value(), flag, allowZero: true)) },
            "--fixture" => options with { FixturePath = Path.GetFullPath(value()) },
            "--report" => options with { ReportPath = Path.GetFullPath(value()) },
            "--http2" => options with { Http2 = true },
            _ => null,
        });

        if (!File.Exists(options.FixturePath))
        {
            throw new FormatException($"fixture not found: {options.FixturePath}");
        }

        return options;
    }
}

internal sealed record WebhookBenchmarkOptions
{
    public int Rate { get; init; } = 500;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    public required string FixturePath { get; init; }

    public required string ReportPath { get; init; }

    public bool Http2 { get; init; }
}
