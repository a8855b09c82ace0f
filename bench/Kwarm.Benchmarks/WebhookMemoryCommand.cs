using System.Globalization;
using System.Text;

namespace Kwarm.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Kwarm.Benchmarks -- webhook-memory --kwarm PATH [--baseline PATH]
/// [--requests 200] [--review-bytes 2900000] [--after 30] [--http2] [--report docs/benchmarks.md]</c>
/// </summary>
internal static class WebhookMemoryCommand
{
    /// <summary>The memory limit of <c>deploy/</c> and the chart's default values.</summary>
    public const double InstalledLimitMib = 256;

    /// <summary>DESIGN §9: always under the installed limit with 30 % headroom.</summary>
    public const double TargetMib = InstalledLimitMib * 0.7;

    public const string Usage = """
        Usage: dotnet run -c Release --project bench/Kwarm.Benchmarks -- webhook-memory [options]

          --kwarm PATH          native Kwarm binary to measure (`dotnet publish src/Kwarm -c Release -o DIR` writes DIR/Kwarm);
                                without it, `dotnet Kwarm.dll` from this build runs (under the JIT: not what the image ships)
          --baseline PATH       another Kwarm binary (say, built from the code before a change) measured first, same load
          --baseline-label TEXT what to call the baseline in the report (default "before")
          --requests N          AdmissionReviews posted at once, one connection each (default 200)
          --review-bytes N      size of each review, old and new object of a Deployment grown alike (default 2900000)
          --after S             seconds RSS is followed after the last answer (default 30)
          --http2               post over HTTP/2 instead of HTTP/1.1
          --fixture PATH        recorded review to grow (default ../shared/fixtures/admission/update-deployment-set-image.json)
          --report PATH         markdown file whose "## Webhook memory" section is rewritten (default docs/benchmarks.md)
        """;

    public static Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken) =>
        BenchmarkArguments.RunAsync(args, Usage, Parse, options => RunAsync(options, output, cancellationToken), output);

    private static async Task<int> RunAsync(WebhookMemoryOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var loadBefore = MachineDescription.LoadAverage();
        var results = new List<WebhookMemoryResult>();
        if (options.Baseline is { } baseline)
        {
            results.Add(await WebhookMemoryBenchmark.RunAsync(options, baseline, options.BaselineLabel, output, cancellationToken).ConfigureAwait(false));
        }

        results.Add(await WebhookMemoryBenchmark.RunAsync(options, options.Kwarm, "this build", output, cancellationToken).ConfigureAwait(false));
        var markdown = Render(options, results, loadBefore);
        BenchmarkReport.WriteSection(options.ReportPath, WebhookMemoryBenchmark.Heading, markdown);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);
        await output.WriteLineAsync($"Report written to {options.ReportPath}").ConfigureAwait(false);
        return 0;
    }

    internal static WebhookMemoryOptions Parse(IReadOnlyList<string> args)
    {
        var root = BenchmarkArguments.RepositoryRoot();
        var options = new WebhookMemoryOptions
        {
            FixturePath = Path.Combine(root, "..", "shared", "fixtures", "admission", "update-deployment-set-image.json"),
            ReportPath = Path.Combine(root, "docs", "benchmarks.md"),
        };
        options = BenchmarkArguments.Fold(args, options, (flag, value, options) => flag switch
        {
            "--kwarm" => value() is var path ? options with { Kwarm = BenchmarkArguments.NativeKwarm(path), KwarmArgument = path } : options,
            "--baseline" => value() is var path ? options with { Baseline = BenchmarkArguments.NativeKwarm(path), BaselineArgument = path } : options,
            "--baseline-label" => options with { BaselineLabel = value() },
            "--requests" => options with { Requests = BenchmarkArguments.Positive(value(), flag) },
            "--review-bytes" => options with { ReviewBytes = BenchmarkArguments.PositiveLong(value(), flag) },
            "--after" => options with { After = TimeSpan.FromSeconds(BenchmarkArguments.PositiveLong(value(), flag)) },
            "--http2" => options with { Http2 = true },
            "--fixture" => options with { FixturePath = Path.GetFullPath(value()) },
            "--report" => options with { ReportPath = Path.GetFullPath(value()) },
            _ => null,
        });

        if (!File.Exists(options.FixturePath))
        {
            throw new FormatException($"fixture not found: {options.FixturePath}");
        }

        return options;
    }

    internal static string Render(WebhookMemoryOptions options, IReadOnlyList<WebhookMemoryResult> results, string loadBefore)
    {
        var invariant = CultureInfo.InvariantCulture;
        var measured = results[^1];
        var peak = Mib(Math.Max(measured.AtEnd.PeakRssBytes, measured.PeakSampledRss));
        var met = peak <= TargetMib && measured.OtherErrors == 0;
        var text = new StringBuilder();
        text.AppendLine(WebhookMemoryBenchmark.Heading).AppendLine();
        text.AppendLine(invariant, $"Target (DESIGN §9): Kwarm's memory always under the installed memory limit ({InstalledLimitMib:0} MiB in `deploy/` and the chart's values) with 30 % headroom, " +
            $"so at most {TargetMib:0.0} MiB resident, also under {options.Requests} concurrent AdmissionReviews of 3 MB. ")
            .AppendLine(invariant, $"**Result: {(met ? "met" : "missed")}** — peak {peak:0.0} MiB resident; {measured.Answered} of {options.Requests} reviews answered with their hold, " +
                $"{measured.Refused} refused with HTTP 429, {measured.TimedOut} timed out, {measured.OtherErrors} other errors; {Mib(measured.AtEnd.RssBytes):0.0} MiB {options.After.TotalSeconds:0} s later.").AppendLine();
        text.AppendLine("Command:").AppendLine().AppendLine("```bash").AppendLine("dotnet publish src/Kwarm -c Release -o artifacts/kwarm");
        text.Append(invariant, $"dotnet run -c Release --project bench/Kwarm.Benchmarks -- webhook-memory --kwarm {options.KwarmArgument ?? "artifacts/kwarm/Kwarm"}");
        if (options.Requests != 200)
        {
            text.Append(invariant, $" --requests {options.Requests}");
        }

        if (options.ReviewBytes != 2_900_000)
        {
            text.Append(invariant, $" --review-bytes {options.ReviewBytes}");
        }

        if (options.After != TimeSpan.FromSeconds(30))
        {
            text.Append(invariant, $" --after {options.After.TotalSeconds:0}");
        }

        text.AppendLine(options.Http2 ? " --http2" : "").AppendLine("```").AppendLine();
        if (options.Baseline is not null)
        {
            text.AppendLine(invariant, $"The \"{options.BaselineLabel}\" column is the same command run first against another native binary (`--baseline {options.BaselineArgument}`).").AppendLine();
        }

        text.AppendLine(string.Create(invariant, $"What it does: installs Kwarm on a small simulated cluster as the README's guided run does (CRDs, webhook configuration, the basic sample policy; Kwarm as its own process), " +
            $"then posts {options.Requests} AdmissionReviews of {measured.ReviewBytes:N0} bytes at once, over TLS straight to Kwarm's webhook port as the API server posts them, " +
            $"{(options.Http2 ? "over HTTP/2 (which kube-apiserver does not use for admission webhooks)" : "each on its own HTTP/1.1 connection (kube-apiserver calls admission webhooks over HTTP/1.1; the connections are opened beforehand by a round of small reviews, as an API server under load keeps them open)")}, " +
            $"each with the API server's {options.Timeout.TotalSeconds:0} s timeout. Each review is the recorded `kubectl set image` (`{Path.GetFileName(options.FixturePath)}`) with its old and new object grown alike " +
            $"to about {measured.ReviewBytes / 2 / 1_000_000.0:0.00} MB, as a real Deployment gets near the API server's limit: {measured.EnvironmentVariables:N0} environment variables in the main container and the " +
            $"`kubectl.kubernetes.io/last-applied-configuration` annotation holding the object once more; every review has its own uid and is an image change the policy holds. " +
            $"An answer counts only with that uid and the hold patch. Kwarm's resident set (VmRSS) is read from `/proc` every 20 ms during the burst and every second for {options.After.TotalSeconds:0} s after the last answer; " +
            $"VmHWM is the kernel's own peak over the process's life.")).AppendLine();

        text.Append("| measure |");
        foreach (var result in results)
        {
            text.Append(invariant, $" {result.Label} |");
        }

        text.AppendLine().Append("| --- |").AppendLine(string.Concat(results.Select(_ => " ---: |")));
        void Row(string measure, Func<WebhookMemoryResult, string> value)
        {
            text.Append(invariant, $"| {measure} |");
            foreach (var result in results)
            {
                text.Append(invariant, $" {value(result)} |");
            }

            text.AppendLine();
        }

        Row("RSS before the burst (MiB)", r => Mib(r.Before.RssBytes).ToString("0.0", invariant));
        Row("peak RSS, sampled (MiB)", r => Mib(r.PeakSampledRss).ToString("0.0", invariant));
        Row("peak RSS, VmHWM (MiB)", r => Mib(r.AtEnd.PeakRssBytes).ToString("0.0", invariant));
        Row("RSS at the last answer (MiB)", r => Mib(r.AfterBurst.RssBytes).ToString("0.0", invariant));
        Row(string.Create(invariant, $"RSS {options.After.TotalSeconds:0} s later (MiB)"), r => Mib(r.AtEnd.RssBytes).ToString("0.0", invariant));
        Row(string.Create(invariant, $"peak against the {InstalledLimitMib:0} MiB limit"), r => string.Create(invariant, $"{Mib(Math.Max(r.AtEnd.PeakRssBytes, r.PeakSampledRss)) / InstalledLimitMib:0%}"));
        Row("answered 200 with the hold", r => r.Answered.ToString(invariant));
        Row("refused, HTTP 429", r => r.Refused.ToString(invariant));
        Row(string.Create(invariant, $"timed out ({options.Timeout.TotalSeconds:0} s)"), r => r.TimedOut.ToString(invariant));
        Row("other errors", r => r.OtherErrors.ToString(invariant));
        Row("latency of the answered, p50 / p90 / max (ms)", r => Latencies(r.AnsweredMs));
        Row("latency of the refused, p50 / max (ms)", r => r.RefusedMs.Length == 0 ? "—" : string.Create(invariant, $"{NearestRank.Of(r.RefusedMs, 0.5):0} / {r.RefusedMs[^1]:0}"));
        Row("burst, first send to last answer (s)", r => r.BurstSeconds.ToString("0.00", invariant));
        Row("Kwarm's `kwarm_webhook_requests_total` increase", r => string.Join(", ", r.Decisions.Where(pair => pair.Value > 0).OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key} {pair.Value}")));
        text.AppendLine();

        foreach (var result in results)
        {
            text.AppendLine(invariant, $"- RSS over time, {result.Label} (MiB, seconds from the first send): {Timeline(result)}.");
            if (result.FirstOtherError is { } error)
            {
                text.AppendLine(invariant, $"- First other error, {result.Label}: `{error.Replace('`', '\'').Replace('\n', ' ')}`.");
            }
        }

        text.AppendLine(invariant, $"- Machine: {measured.Machine} (of the last run; before the first: {loadBefore}); load average after the run: {measured.LoadAfter}.");
        text.AppendLine(invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on the shared 2-core machine: the simulator, the load and Kwarm share the two cores with whatever else ran.");
        return text.ToString();
    }

    private static string Latencies(double[] sorted) => sorted.Length == 0
        ? "—"
        : string.Create(CultureInfo.InvariantCulture, $"{NearestRank.Of(sorted, 0.5):0} / {NearestRank.Of(sorted, 0.9):0} / {sorted[^1]:0}");

    /// <summary>A few readings: the burst's first seconds closely, then every 5 s.</summary>
    private static string Timeline(WebhookMemoryResult result)
    {
        var marks = new[] { 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 25, 30, 35, 40 };
        var last = result.Samples.Count == 0 ? 0 : result.Samples[^1].Seconds;
        var readings = marks.Where(mark => mark <= last)
            .Select(mark => result.Samples.First(sample => sample.Seconds >= mark))
            .Distinct()
            .Select(sample => string.Create(CultureInfo.InvariantCulture, $"{sample.Seconds:0.##} s {Mib(sample.RssBytes):0}"));
        return string.Join(", ", readings);
    }

    private static double Mib(long bytes) => bytes / 1024.0 / 1024.0;
}
