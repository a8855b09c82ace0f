using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kwarm.Benchmarks;

/// <summary>What the load generator process reports back, as one JSON line on its standard output.</summary>
internal sealed record LoadResult
{
    public required int Sent { get; init; }

    public required int Errors { get; init; }

    public string? FirstError { get; init; }

    /// <summary>Latency of each correct answer, from its send to the complete response.</summary>
    public required double[] LatenciesMs { get; init; }

    /// <summary>The same, counted from when the request was due: adds the generator's own lateness (about 1 ms of timer granularity).</summary>
    public required double[] LatenciesFromDueMs { get; init; }

    public required double ElapsedSeconds { get; init; }

    public required double WorstSendLagMs { get; init; }

    public required string GarbageCollection { get; init; }
}

[JsonSerializable(typeof(LoadResult))]
internal sealed partial class LoadResultJsonContext : JsonSerializerContext;

/// <summary>
/// The API server's side of the benchmark, run in its own process (as the API server is) so that its garbage
/// collections do not stall the webhook. Open loop: a dedicated thread wakes about every millisecond and starts every
/// request that has come due, never waiting for answers, so a slow server cannot slow the sending down; sleeping
/// rather than spinning keeps it from eating one of the two cores it shares with the server.
/// </summary>
internal static class LoadGenerator
{
    public const string MeasuringLine = "MEASURING";
    public const string ResultPrefix = "RESULT ";

    /// <summary><c>load URL THUMBPRINT FIXTURE RATE DURATION WARMUP HTTP2</c>: the arguments the orchestrator passes.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var endpoint = new Uri(args[0]);
        var thumbprint = args[1];
        var body = await File.ReadAllBytesAsync(args[2], cancellationToken).ConfigureAwait(false);
        var rate = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
        var duration = TimeSpan.FromSeconds(int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture));
        var warmup = TimeSpan.FromSeconds(int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture));
        var http2 = bool.Parse(args[6]);

        using var client = CreateClient(thumbprint, http2);
        if (warmup > TimeSpan.Zero)
        {
            await DriveAsync(client, endpoint, body, rate, warmup, cancellationToken).ConfigureAwait(false);
        }

        await output.WriteLineAsync(MeasuringLine).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var result = await DriveAsync(client, endpoint, body, rate, duration, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(ResultPrefix + JsonSerializer.Serialize(result, LoadResultJsonContext.Default.LoadResult)).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private static async Task<LoadResult> DriveAsync(HttpClient client, Uri endpoint, byte[] body, int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var fromDue = new double[total];
        var failed = new bool[total];
        string? firstError = null;
        var inFlight = new Task[total];
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var worstLag = 0L;
        var collectionsBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var pausedBefore = GC.GetTotalPauseDuration();
        var allocatedBefore = GC.GetTotalAllocatedBytes();

        var start = Stopwatch.GetTimestamp();
        var generator = new Thread(() =>
        {
            for (var index = 0; index < total; index++)
            {
                var due = start + (long)(index * ticksPerRequest);
                while (Stopwatch.GetTimestamp() < due)
                {
                    Thread.Sleep(1);
                }

                var sent = Stopwatch.GetTimestamp();
                worstLag = Math.Max(worstLag, sent - due);
                var slot = index;
                inFlight[index] = Task.Run(async () =>
                {
                    var error = await SendAsync(client, endpoint, body, cancellationToken).ConfigureAwait(false);
                    latencies[slot] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    fromDue[slot] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
                    if (error is not null)
                    {
                        failed[slot] = true;
                        Interlocked.CompareExchange(ref firstError, error, null);
                    }
                }, cancellationToken);
            }
        })
        { IsBackground = true, Name = "kwarm-bench-generator" };
        generator.Start();
        generator.Join();

        await Task.WhenAll(inFlight).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        return new LoadResult
        {
            Sent = total,
            Errors = failed.Count(flag => flag),
            FirstError = firstError,
            LatenciesMs = [.. latencies.Where((_, index) => !failed[index])],
            LatenciesFromDueMs = [.. fromDue.Where((_, index) => !failed[index])],
            ElapsedSeconds = elapsed.TotalSeconds,
            WorstSendLagMs = worstLag * 1000.0 / Stopwatch.Frequency,
            GarbageCollection = GarbageCollectionSince(collectionsBefore, pausedBefore, allocatedBefore, total),
        };
    }

    public static string GarbageCollectionSince((int Gen0, int Gen1, int Gen2) before, TimeSpan pausedBefore, long allocatedBefore, int requests) =>
        $"{(GC.GetTotalAllocatedBytes() - allocatedBefore) / 1024.0 / Math.Max(1, requests):0.0} KiB allocated per request, {GC.CollectionCount(0) - before.Gen0} collections ({GC.CollectionCount(1) - before.Gen1} of gen1, {GC.CollectionCount(2) - before.Gen2} of gen2), " +
        $"{(GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds:0} ms paused in total";

    private static async Task<string?> SendAsync(HttpClient client, Uri endpoint, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(endpoint, content, cancellationToken).ConfigureAwait(false);
            var answer = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return $"HTTP {(int)response.StatusCode}: {answer}";
            }

            // Every answer must be the hold the fixture calls for, not merely a 200.
            return answer.Contains("\"patchType\":\"JSONPatch\"", StringComparison.Ordinal) ? null : $"no patch in the answer: {answer}";
        }
        catch (HttpRequestException exception)
        {
            return exception.Message;
        }
        catch (TaskCanceledException exception)
        {
            return $"timed out: {exception.Message}";
        }
    }

    private static HttpClient CreateClient(string pinnedThumbprint, bool http2)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
            SslOptions = new SslClientAuthenticationOptions
            {
                // The benchmark's own self-signed certificate, pinned by thumbprint, as the API server pins it via caBundle.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(certificate.GetCertHashString(), pinnedThumbprint, StringComparison.OrdinalIgnoreCase),
            },
        };
        return new HttpClient(handler)
        {
            // The API server's webhook timeout (timeoutSeconds: 5).
            Timeout = TimeSpan.FromSeconds(5),
            DefaultRequestVersion = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }
}
