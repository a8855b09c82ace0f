using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using Kwarm.Local;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Benchmarks;

internal sealed record WebhookMemoryOptions
{
    public int Requests { get; init; } = 200;

    /// <summary>Size of each AdmissionReview: old and new object of a Deployment near the API server's object limit.</summary>
    public long ReviewBytes { get; init; } = 2_900_000;

    /// <summary>How long RSS is followed after the last answer.</summary>
    public TimeSpan After { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The API server's webhook timeout (<c>timeoutSeconds: 5</c>): a request not answered by then counts as timed out.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    public bool Http2 { get; init; }

    /// <summary>The Kwarm measured; the native binary the image ships unless told otherwise.</summary>
    public KwarmCommand Kwarm { get; init; } = KwarmCommand.Built;

    public string? KwarmArgument { get; init; }

    /// <summary>Another Kwarm (say, built from the code before a change) run first with the same load, for comparison.</summary>
    public KwarmCommand? Baseline { get; init; }

    public string? BaselineArgument { get; init; }

    public string BaselineLabel { get; init; } = "before";

    public required string FixturePath { get; init; }

    public required string ReportPath { get; init; }
}

/// <summary>One RSS reading of the Kwarm process, seconds from the burst's start.</summary>
internal readonly record struct RssSample(double Seconds, long RssBytes);

internal sealed record WebhookMemoryResult
{
    public required string Label { get; init; }

    public required string Command { get; init; }

    public required long ReviewBytes { get; init; }

    public required int EnvironmentVariables { get; init; }

    /// <summary>Before the burst, after the warm-up round that opened the connections.</summary>
    public required ProcessStats Before { get; init; }

    /// <summary>Highest VmRSS read during the burst and the 30 s after it (read every 20 ms during the burst).</summary>
    public required long PeakSampledRss { get; init; }

    /// <summary>VmHWM at the end: the kernel's own peak over the process's life.</summary>
    public required ProcessStats AtEnd { get; init; }

    public required ProcessStats AfterBurst { get; init; }

    public required IReadOnlyList<RssSample> Samples { get; init; }

    public required int Answered { get; init; }

    public required int Refused { get; init; }

    public required int TimedOut { get; init; }

    public required int OtherErrors { get; init; }

    public string? FirstOtherError { get; init; }

    public required double[] AnsweredMs { get; init; }

    public required double[] RefusedMs { get; init; }

    public required double BurstSeconds { get; init; }

    /// <summary>Kwarm's own <c>kwarm_webhook_requests_total</c> increase during the burst, by decision.</summary>
    public required IReadOnlyDictionary<string, long> Decisions { get; init; }

    public required string Machine { get; init; }

    public required string LoadAfter { get; init; }
}

/// <summary>
/// DESIGN §9's "also under 200 concurrent AdmissionReviews of 3 MB": Kwarm (the native binary, as the image ships it)
/// installed on a small simulated cluster, then <see cref="WebhookMemoryOptions.Requests"/> AdmissionReviews of
/// ~2.9 MB posted at once over TLS straight to its webhook port, as the API server posts them, each with its own
/// connection (HTTP/1.1; opened by a warm-up round of small reviews, as an API server under load keeps them open) and
/// the API server's 5 s timeout. Kwarm's resident set is read from <c>/proc</c> every 20 ms during the burst and every
/// second for 30 s after it.
/// </summary>
internal static class WebhookMemoryBenchmark
{
    public const string Heading = "## Webhook memory";

    public static async Task<WebhookMemoryResult> RunAsync(WebhookMemoryOptions options, KwarmCommand command, string label, TextWriter output, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("kwarm-webhook-memory-").FullName;
        var clock = Stopwatch.StartNew();
        void Say(string text) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{label} {clock.Elapsed.TotalSeconds,6:0.0}s] {text}"));
        try
        {
            var review = LargeAdmissionReview.Build(options.FixturePath, options.ReviewBytes);
            var small = LargeAdmissionReview.Build(options.FixturePath, variables: 0);
            Say($"review of {review.Length:N0} bytes ({review.EnvironmentVariables} environment variables per object)");

            var machine = MachineDescription.Describe();
            await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { KubeconfigPath = Path.Combine(work, "admin.kubeconfig"), RecordEvents = false }, cancellationToken).ConfigureAwait(false);
            using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));
            await using var kwarm = await SimulatedKwarmInstall.InstallAsync(cluster, client, command, work, cluster.KubeconfigPath, cancellationToken).ConfigureAwait(false);
            var policy = SimulatedKwarmInstall.Manifest<PrePullPolicy>("prepullpolicy-basic.yaml");
            await client.CustomObjects.CreateClusterCustomObjectAsync(policy, KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, cancellationToken: cancellationToken).ConfigureAwait(false);
            Say($"Kwarm running as pid {kwarm.ProcessId} ({command}; log {kwarm.LogPath})");

            var endpoint = new Uri($"https://127.0.0.1:{kwarm.WebhookEndPoint.Port.ToString(CultureInfo.InvariantCulture)}/mutate/deployments");
            using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(work, "serving-certs", "tls.crt")));
            using var http = CreateClient(certificate.GetCertHashString(), options);
            using var metricsClient = new HttpClient();

            // The policy reaches Kwarm through its informer: once a small review is held, Kwarm has it.
            var waitingSince = Stopwatch.GetTimestamp();
            while ((await SendAsync(http, endpoint, small, options.Timeout, cancellationToken).ConfigureAwait(false)).Status != Outcome.Answered)
            {
                if (Stopwatch.GetElapsedTime(waitingSince) > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException($"Kwarm did not hold the small review within 60 s; see {kwarm.LogPath}");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
            }

            // Warm-up: one small review per connection, all at once, so the burst finds its connections open.
            var warmup = await Task.WhenAll(Enumerable.Range(0, options.Requests).Select(_ => SendAsync(http, endpoint, small, options.Timeout, cancellationToken))).ConfigureAwait(false);
            Say($"warm-up: {warmup.Count(result => result.Status == Outcome.Answered)} of {options.Requests} small reviews held");
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);

            var before = ProcessStats.Read(kwarm.ProcessId);
            var decisionsBefore = await ScrapeDecisionsAsync(metricsClient, kwarm.MetricsUri, cancellationToken).ConfigureAwait(false);
            Say($"before the burst: RSS {ProcessStats.Mib(before.RssBytes)} MiB");

            var samples = new List<RssSample>();
            var burstStart = Stopwatch.GetTimestamp();
            using var stopSampling = new CancellationTokenSource();
            var sampler = SampleAsync(kwarm.ProcessId, burstStart, TimeSpan.FromMilliseconds(20), samples, stopSampling.Token);
            var results = await Task.WhenAll(Enumerable.Range(0, options.Requests).Select(_ => Task.Run(() => SendAsync(http, endpoint, review, options.Timeout, cancellationToken), cancellationToken))).ConfigureAwait(false);
            var burstSeconds = Stopwatch.GetElapsedTime(burstStart).TotalSeconds;
            var afterBurst = ProcessStats.Read(kwarm.ProcessId);
            await stopSampling.CancelAsync().ConfigureAwait(false);
            await sampler.ConfigureAwait(false);
            var decisionsAfter = await ScrapeDecisionsAsync(metricsClient, kwarm.MetricsUri, cancellationToken).ConfigureAwait(false);
            Say($"burst done in {burstSeconds:0.00} s: {results.Count(r => r.Status == Outcome.Answered)} answered, {results.Count(r => r.Status == Outcome.Refused)} refused (429), " +
                $"{results.Count(r => r.Status == Outcome.TimedOut)} timed out, {results.Count(r => r.Status == Outcome.Failed)} other errors; RSS now {ProcessStats.Mib(afterBurst.RssBytes)} MiB");

            // Afterwards: once a second, with no requests at all, to see whether the memory is given back.
            var quietStart = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(quietStart) < options.After)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                samples.Add(new RssSample(Stopwatch.GetElapsedTime(burstStart).TotalSeconds, ProcessStats.Read(kwarm.ProcessId).RssBytes));
            }

            var atEnd = ProcessStats.Read(kwarm.ProcessId);
            Say($"{options.After.TotalSeconds:0} s later: RSS {ProcessStats.Mib(atEnd.RssBytes)} MiB, peak (VmHWM) {ProcessStats.Mib(atEnd.PeakRssBytes)} MiB");
            var firstError = results.FirstOrDefault(result => result.Status == Outcome.Failed).Detail;
            return new WebhookMemoryResult
            {
                Label = label,
                Command = command.ToString(),
                ReviewBytes = review.Length,
                EnvironmentVariables = review.EnvironmentVariables,
                Before = before,
                PeakSampledRss = samples.Count == 0 ? afterBurst.RssBytes : Math.Max(samples.Max(sample => sample.RssBytes), afterBurst.RssBytes),
                AtEnd = atEnd,
                AfterBurst = afterBurst,
                Samples = samples,
                Answered = results.Count(result => result.Status == Outcome.Answered),
                Refused = results.Count(result => result.Status == Outcome.Refused),
                TimedOut = results.Count(result => result.Status == Outcome.TimedOut),
                OtherErrors = results.Count(result => result.Status == Outcome.Failed),
                FirstOtherError = firstError,
                AnsweredMs = [.. results.Where(result => result.Status == Outcome.Answered).Select(result => result.Milliseconds).Order()],
                RefusedMs = [.. results.Where(result => result.Status == Outcome.Refused).Select(result => result.Milliseconds).Order()],
                BurstSeconds = burstSeconds,
                Decisions = decisionsAfter.ToDictionary(pair => pair.Key, pair => pair.Value - decisionsBefore.GetValueOrDefault(pair.Key), StringComparer.Ordinal),
                Machine = machine,
                LoadAfter = MachineDescription.LoadAverage(),
            };
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    internal enum Outcome
    {
        Answered,
        Refused,
        TimedOut,
        Failed,
    }

    internal readonly record struct SendResult(Outcome Status, double Milliseconds, string? Detail);

    private static async Task<SendResult> SendAsync(HttpClient http, Uri endpoint, LargeAdmissionReview review, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var uid = Guid.NewGuid().ToString("D");
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var content = new ReviewContent(review, uid);
            using var response = await http.PostAsync(endpoint, content, deadline.Token).ConfigureAwait(false);
            var answer = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return response.StatusCode switch
            {
                // Every answer must be this request's hold, not merely a 200.
                HttpStatusCode.OK when answer.Contains(uid, StringComparison.Ordinal) && answer.Contains("\"patchType\":\"JSONPatch\"", StringComparison.Ordinal)
                    => new SendResult(Outcome.Answered, elapsed, null),
                HttpStatusCode.TooManyRequests => new SendResult(Outcome.Refused, elapsed, answer),
                var status => new SendResult(Outcome.Failed, elapsed, $"HTTP {(int)status}: {Shorten(answer)}"),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(Outcome.TimedOut, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        catch (HttpRequestException exception)
        {
            return new SendResult(Outcome.Failed, Stopwatch.GetElapsedTime(started).TotalMilliseconds, exception.Message);
        }
    }

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text;

    private static async Task SampleAsync(int pid, long start, TimeSpan interval, List<RssSample> samples, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                samples.Add(new RssSample(Stopwatch.GetElapsedTime(start).TotalSeconds, ProcessStats.Read(pid).RssBytes));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The burst is over.
        }
    }

    /// <summary><c>kwarm_webhook_requests_total</c> by decision, from Kwarm's Prometheus endpoint.</summary>
    private static async Task<Dictionary<string, long>> ScrapeDecisionsAsync(HttpClient http, Uri metrics, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync(metrics, cancellationToken).ConfigureAwait(false);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            const string prefix = "kwarm_webhook_requests_total{";
            if (!line.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var decisionAt = line.IndexOf("decision=\"", StringComparison.Ordinal) + "decision=\"".Length;
            var decision = line[decisionAt..line.IndexOf('"', decisionAt)];
            var value = line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];
            counts[decision] = (long)double.Parse(value, CultureInfo.InvariantCulture);
        }

        return counts;
    }

    private static HttpClient CreateClient(string pinnedThumbprint, WebhookMemoryOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = System.Threading.Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            EnableMultipleHttp2Connections = true,
            SslOptions = new SslClientAuthenticationOptions
            {
                // The install's own self-signed serving certificate, pinned, as the API server pins it through caBundle.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(certificate.GetCertHashString(), pinnedThumbprint, StringComparison.OrdinalIgnoreCase),
            },
        };
        return new HttpClient(handler)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = options.Http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The shared body with this request's uid, written without copying the body per request.</summary>
    private sealed class ReviewContent : HttpContent
    {
        private readonly LargeAdmissionReview _review;
        private readonly byte[] _uid;

        public ReviewContent(LargeAdmissionReview review, string uid)
        {
            _review = review;
            _uid = Encoding.ASCII.GetBytes(uid);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(_review.BeforeUid, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(_uid, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(_review.AfterUid, cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = _review.BeforeUid.Length + _uid.Length + _review.AfterUid.Length;
            return true;
        }
    }
}
