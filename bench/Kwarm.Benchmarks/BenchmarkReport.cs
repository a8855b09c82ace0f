using System.Globalization;
using System.Text;

namespace Kwarm.Benchmarks;

/// <summary>Renders a result as markdown and rewrites one <c>## </c> section of the report, leaving the others alone.</summary>
internal static class BenchmarkReport
{
    public const double TargetP99Ms = 5;

    public static string Render(WebhookBenchmarkOptions options, WebhookBenchmarkResult result)
    {
        var client = Percentiles(result.Load.LatenciesMs);
        var fromDue = Percentiles(result.Load.LatenciesFromDueMs);
        var server = Percentiles(result.ServerMs);
        var met = client.P99 <= TargetP99Ms && result.Load.Errors == 0;
        var achieved = result.Load.Sent / result.Load.ElapsedSeconds;
        var invariant = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("## Webhook").AppendLine();
        text.AppendLine(invariant, $"Target (DESIGN §9): p99 ≤ {TargetP99Ms:0} ms and zero errors at 500 requests/s over TLS on a 2-core machine. ")
            .AppendLine(invariant, $"**Result: {(met ? "met" : "not met")}** — p99 {client.P99:0.00} ms, {result.Load.Errors} errors out of {result.Load.Sent} requests.").AppendLine();
        text.AppendLine("Command:").AppendLine().AppendLine("```bash")
            .AppendLine(invariant, $"dotnet run -c Release --project bench/Kwarm.Benchmarks -- webhook --rate {options.Rate} --duration {options.Duration.TotalSeconds:0}{(options.Http2 ? " --http2" : "")}")
            .AppendLine("```").AppendLine();
        text.AppendLine(string.Create(invariant, $"What it does: serves the real webhook (`AddKwarmAdmission`, `MapKwarmAdmission`, the file-based rotating certificate) with Kestrel over TLS " +
            $"on 127.0.0.1 and posts `{Path.GetFileName(options.FixturePath)}` (a recorded `kubectl set image`, {new FileInfo(options.FixturePath).Length:N0} bytes, answered with a hold patch) " +
            $"open loop at {options.Rate}/s for {options.Duration.TotalSeconds:0} s after {options.Warmup.TotalSeconds:0} s of warm-up, {result.Protocol} with keep-alive, " +
            $"load generator in a second process (as the API server is). The generator is open loop (it never waits for an answer before sending the next request), " +
            $"so queueing behind a slow answer is counted; latency runs from the send to the complete response, and a second row counts from the moment the request was due, " +
            $"which adds the generator's own ~1 ms timer granularity. An error is a non-200 answer, an answer without the patch, a transport error, or no answer within 5 s.")).AppendLine();
        text.AppendLine("| measure | p50 | p90 | p99 | p99.9 | max |").AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        text.AppendLine(invariant, $"| client-observed latency (ms) | {client.P50:0.00} | {client.P90:0.00} | {client.P99:0.00} | {client.P999:0.00} | {client.Max:0.00} |");
        text.AppendLine(invariant, $"| client latency counted from the due time (ms) | {fromDue.P50:0.00} | {fromDue.P90:0.00} | {fromDue.P99:0.00} | {fromDue.P999:0.00} | {fromDue.Max:0.00} |");
        text.AppendLine(invariant, $"| server handling, `kwarm_webhook_duration_seconds` (ms) | {server.P50:0.000} | {server.P90:0.000} | {server.P99:0.000} | {server.P999:0.000} | {server.Max:0.000} |");
        text.AppendLine();
        text.AppendLine(invariant, $"- Requests: {result.Load.Sent} sent, {result.Load.Sent - result.Load.Errors} answered correctly, **{result.Load.Errors} errors**{(result.Load.FirstError is null ? "" : $" (first: `{Truncate(result.Load.FirstError)}`)")}.");
        text.AppendLine(invariant, $"- Achieved rate: {achieved:0.0} requests/s over {result.Load.ElapsedSeconds:0.0} s; worst send lag of the generator {result.Load.WorstSendLagMs:0.00} ms.");
        text.AppendLine(invariant, $"- Garbage collection during the run: webhook process {result.ServerGarbageCollection}; load generator {result.Load.GarbageCollection}.");
        text.AppendLine(invariant, $"- Machine: {result.Machine}.");
        text.AppendLine(invariant, $"- Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. The machine was shared with other builds, so the tail includes their noise.");
        return text.ToString();
    }

    public static void WriteSection(string path, string heading, string section)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\nNumbers measured by the documented benchmark commands; each section is rewritten by its own command.\n";
        var lines = existing.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        var start = lines.FindIndex(line => line.TrimEnd() == heading);
        var replacement = section.TrimEnd('\n').Split('\n');
        if (start < 0)
        {
            while (lines.Count > 0 && lines[^1].Length == 0)
            {
                lines.RemoveAt(lines.Count - 1);
            }

            lines.Add("");
            lines.AddRange(replacement);
        }
        else
        {
            var end = lines.FindIndex(start + 1, line => line.StartsWith("## ", StringComparison.Ordinal));
            var count = (end < 0 ? lines.Count : end) - start;
            lines.RemoveRange(start, count);
            lines.InsertRange(start, end < 0 ? replacement : [.. replacement, ""]);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, string.Join('\n', lines).TrimEnd('\n') + "\n");
    }

    private readonly record struct Summary(double P50, double P90, double P99, double P999, double Max);

    private static Summary Percentiles(double[] values)
    {
        if (values.Length == 0)
        {
            return new Summary(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var sorted = values.Order().ToArray();
        return new Summary(NearestRank.Of(sorted, 0.50), NearestRank.Of(sorted, 0.90), NearestRank.Of(sorted, 0.99), NearestRank.Of(sorted, 0.999), sorted[^1]);
    }

    private static string Truncate(string text) => (text.Length > 160 ? text[..160] + "…" : text).Replace('\n', ' ').Replace('`', '\'');
}
