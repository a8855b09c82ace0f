using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;
using Kwarm.Admission;
using Kwarm.Hosting;
using Kwarm.Resources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kwarm.Benchmarks;

internal sealed record WebhookBenchmarkResult
{
    public required int Sent { get; init; }

    public required int Errors { get; init; }

    public required string? FirstError { get; init; }

    /// <summary>Client-observed latency of each successful request, from its send to the full response.</summary>
    public required double[] LatenciesMs { get; init; }

    /// <summary>The same, counted from when the request was due: adds the generator's own lateness (about 1 ms of timer granularity).</summary>
    public required double[] LatenciesFromDueMs { get; init; }

    /// <summary>Server-side handling time, from <c>kwarm_webhook_duration_seconds</c>.</summary>
    public required double[] ServerMs { get; init; }

    public required TimeSpan Elapsed { get; init; }

    public required double WorstSendLagMs { get; init; }

    public required string Protocol { get; init; }

    public required string Machine { get; init; }
}

/// <summary>
/// Serves the real webhook (AddKwarmAdmission, MapKwarmAdmission, the file-based rotating certificate) over TLS on
/// 127.0.0.1 and drives it open loop: request i is due at start + i / rate whether or not earlier answers came back,
/// and its latency counts from when it was due, so a stalled server cannot hide its queueing (no coordinated omission).
/// </summary>
internal static class WebhookBenchmark
{
    public static async Task<WebhookBenchmarkResult> RunAsync(WebhookBenchmarkOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var certificateDirectory = Directory.CreateTempSubdirectory("kwarm-bench-certs-").FullName;
        try
        {
            var pinnedThumbprint = WriteSelfSignedCertificate(certificateDirectory);

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
            builder.Services.Configure<KwarmOptions>(kwarm => kwarm.WebhookCertDir = certificateDirectory);
            builder.Services.AddKwarmAdmission();
            builder.WebHost.UseKestrel((context, kestrel) =>
            {
                var certificates = kestrel.ApplicationServices.GetRequiredService<IServingCertificateSource>();
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseServingCertificate(certificates));
            });

            await using var app = builder.Build();
            app.MapKwarmAdmission();
            app.Services.GetRequiredService<IPolicyCatalog>().Replace([OptInPolicy()]);

            var serverSeconds = new ConcurrentQueue<double>();
            var recordServer = false;
            using var meters = ListenToWebhookDuration(app.Services.GetRequiredService<IMeterFactory>(), value =>
            {
                if (Volatile.Read(ref recordServer))
                {
                    serverSeconds.Enqueue(value);
                }
            });

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var endpoint = new Uri(new Uri(app.Urls.First()), AdmissionEndpoint.Path);
            var body = await File.ReadAllBytesAsync(options.FixturePath, cancellationToken).ConfigureAwait(false);

            using var client = CreateClient(pinnedThumbprint, options.Http2);
            await output.WriteLineAsync($"Serving {endpoint} over TLS; warming up {options.Warmup.TotalSeconds:0} s at {options.Rate}/s").ConfigureAwait(false);
            if (options.Warmup > TimeSpan.Zero)
            {
                await DriveAsync(client, endpoint, body, options.Rate, options.Warmup, cancellationToken).ConfigureAwait(false);
            }

            var machine = MachineDescription.Describe();
            await output.WriteLineAsync($"Measuring {options.Duration.TotalSeconds:0} s at {options.Rate}/s").ConfigureAwait(false);
            Volatile.Write(ref recordServer, true);
            var run = await DriveAsync(client, endpoint, body, options.Rate, options.Duration, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref recordServer, false);
            await app.StopAsync(cancellationToken).ConfigureAwait(false);

            return new WebhookBenchmarkResult
            {
                Sent = run.Sent,
                Errors = run.Errors,
                FirstError = run.FirstError,
                LatenciesMs = run.LatenciesMs,
                LatenciesFromDueMs = run.LatenciesFromDueMs,
                ServerMs = [.. serverSeconds.Select(seconds => seconds * 1000)],
                Elapsed = run.Elapsed,
                WorstSendLagMs = run.WorstSendLagMs,
                Protocol = options.Http2 ? "HTTP/2" : "HTTP/1.1",
                Machine = machine + $"; load average after the run: {MachineDescription.LoadAverage()}",
            };
        }
        finally
        {
            Directory.Delete(certificateDirectory, recursive: true);
        }
    }

    private sealed record DriveResult(int Sent, int Errors, string? FirstError, double[] LatenciesMs, double[] LatenciesFromDueMs, TimeSpan Elapsed, double WorstSendLagMs);

    /// <summary>
    /// Open loop: a dedicated thread wakes about every millisecond and starts every request that has come due, never
    /// waiting for answers, so a slow server cannot slow the sending down. Sleeping rather than spinning keeps the
    /// generator from eating one of the two cores it shares with the server.
    /// </summary>
    private static async Task<DriveResult> DriveAsync(HttpClient client, Uri endpoint, byte[] body, int rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var fromDue = new double[total];
        var failed = new bool[total];
        string? firstError = null;
        var inFlight = new Task[total];
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var worstLag = 0L;

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
        return new DriveResult(total, failed.Count(flag => flag), firstError,
            [.. latencies.Where((_, index) => !failed[index])], [.. fromDue.Where((_, index) => !failed[index])],
            elapsed, worstLag * 1000.0 / Stopwatch.Frequency);
    }

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
                // The benchmark's own self-signed certificate, pinned by thumbprint: the API server pins via caBundle.
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

    private static string WriteSelfSignedCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kwarm-webhook.kwarm-system.svc", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("kwarm-webhook.kwarm-system.svc");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(directory, FileServingCertificateSource.CertificateFileName), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, FileServingCertificateSource.KeyFileName), key.ExportPkcs8PrivateKeyPem());
        return certificate.Thumbprint;
    }

    private static PrePullPolicy OptInPolicy() => new()
    {
        Metadata = new V1ObjectMeta { Name = "default", CreationTimestamp = DateTime.UtcNow },
        Spec = new PrePullPolicySpec
        {
            Selector = new DeploymentSelector { MatchLabels = new Dictionary<string, string> { [KwarmApi.EnabledLabel] = "true" } },
        },
    };

    private static MeterListener ListenToWebhookDuration(IMeterFactory factory, Action<double> record)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meterListener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name == "kwarm_webhook_duration_seconds")
                {
                    meterListener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => record(value));
        listener.Start();
        return listener;
    }
}
