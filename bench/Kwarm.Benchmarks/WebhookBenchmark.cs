using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
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
    public required LoadResult Load { get; init; }

    /// <summary>Server-side handling time, from <c>kwarm_webhook_duration_seconds</c>.</summary>
    public required double[] ServerMs { get; init; }

    /// <summary>Collections and pause time of the webhook process during the measured run.</summary>
    public required string ServerGarbageCollection { get; init; }

    public required string Protocol { get; init; }

    public required string Machine { get; init; }
}

/// <summary>
/// Serves the real webhook (AddKwarmAdmission, MapKwarmAdmission, the file-based rotating certificate) over TLS on
/// 127.0.0.1 in this process, and drives it from a second process running <see cref="LoadGenerator"/>.
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
            await output.WriteLineAsync($"Serving {endpoint} over TLS; load generator warming up {options.Warmup.TotalSeconds:0} s at {options.Rate}/s").ConfigureAwait(false);

            var machine = MachineDescription.Describe();
            using var generator = StartGenerator(endpoint, pinnedThumbprint, options);
            // Drained from the start: a child blocked on a full stderr pipe would look like a stalled benchmark.
            var generatorErrors = generator.StandardError.ReadToEndAsync(cancellationToken);
            LoadResult? load = null;
            (int, int, int) collectionsBefore = default;
            var pausedBefore = TimeSpan.Zero;
            var allocatedBefore = 0L;
            var serverCollections = "";
            while (await generator.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line == LoadGenerator.MeasuringLine)
                {
                    await output.WriteLineAsync($"Measuring {options.Duration.TotalSeconds:0} s at {options.Rate}/s").ConfigureAwait(false);
                    collectionsBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
                    pausedBefore = GC.GetTotalPauseDuration();
                    allocatedBefore = GC.GetTotalAllocatedBytes();
                    Volatile.Write(ref recordServer, true);
                }
                else if (line.StartsWith(LoadGenerator.ResultPrefix, StringComparison.Ordinal))
                {
                    Volatile.Write(ref recordServer, false);
                    serverCollections = LoadGenerator.GarbageCollectionSince(collectionsBefore, pausedBefore, allocatedBefore, options.Rate * (int)options.Duration.TotalSeconds);
                    load = JsonSerializer.Deserialize(line[LoadGenerator.ResultPrefix.Length..], LoadResultJsonContext.Default.LoadResult);
                }
            }

            await generator.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
            if (load is null)
            {
                throw new InvalidOperationException($"the load generator exited with code {generator.ExitCode} without a result: {await generatorErrors.ConfigureAwait(false)}");
            }

            return new WebhookBenchmarkResult
            {
                Load = load,
                ServerMs = [.. serverSeconds.Select(seconds => seconds * 1000)],
                ServerGarbageCollection = serverCollections,
                Protocol = options.Http2 ? "HTTP/2" : "HTTP/1.1",
                Machine = machine + $"; load average after the run: {MachineDescription.LoadAverage()}",
            };
        }
        finally
        {
            Directory.Delete(certificateDirectory, recursive: true);
        }
    }

    /// <summary>Runs this same program as <c>load ...</c> in a child process (through <c>dotnet</c> when started that way).</summary>
    private static Process StartGenerator(Uri endpoint, string thumbprint, WebhookBenchmarkOptions options)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot locate the running program");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(WebhookBenchmark).Assembly.Location);
        }

        foreach (var argument in new[]
        {
            "load", endpoint.ToString(), thumbprint, options.FixturePath, options.Rate.ToString(CultureInfo.InvariantCulture),
            ((int)options.Duration.TotalSeconds).ToString(CultureInfo.InvariantCulture), ((int)options.Warmup.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            options.Http2.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("the load generator did not start");
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
