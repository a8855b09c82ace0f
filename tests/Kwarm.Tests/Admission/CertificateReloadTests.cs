using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Kwarm.Admission;
using Kwarm.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Admission;

/// <summary>The webhook's serving certificate follows rotations of <c>tls.crt</c>/<c>tls.key</c> without a restart.</summary>
public sealed class CertificateReloadTests : IDisposable
{
    private readonly TestCertificates _certificates = new();
    private readonly RecordingLoggerProvider _logs = new();

    public void Dispose() => _certificates.Dispose();

    private FileServingCertificateSource CreateSource(TimeProvider time, TimeSpan recheckPeriod, bool watch) =>
        new(_certificates.Directory, time, _logs.CreateLogger<FileServingCertificateSource>(), recheckPeriod, watch);

    [Fact]
    public async Task Kestrel_presents_the_new_certificate_after_a_data_symlink_swap()
    {
        var first = _certificates.PublishAtomically("kwarm-first");
        // A one-hour fallback period: within this test only the directory watch can deliver the rotation.
        using var source = CreateSource(TimeProvider.System, TimeSpan.FromHours(1), watch: true);
        await source.StartAsync(TestContext.Current.CancellationToken);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseServingCertificate(source)));
        await using var app = builder.Build();
        app.MapGet("/", () => "ok");
        await app.StartAsync(TestContext.Current.CancellationToken);
        var port = new Uri(app.Urls.First()).Port;

        Assert.Equal(first, await HandshakeAsync(port));

        var second = _certificates.PublishAtomically("kwarm-second");
        Assert.Equal(second, await WaitForCertificateAsync(port, second));

        // A broken rotation (a key that does not belong to the certificate) keeps the previous certificate in service.
        var (orphanCertificate, _, _) = TestCertificates.Create("kwarm-orphan");
        var (_, foreignKey, _) = TestCertificates.Create("kwarm-foreign");
        _certificates.PublishAtomically(orphanCertificate, foreignKey);
        await Eventually.WaitUntilAsync(() => _logs.WithEvent(4102).Count > 0, "_logs.WithEvent(4102).Count > 0");

        Assert.Equal(second, await HandshakeAsync(port));
        Assert.Equal(second, source.Current!.Thumbprint);
        Assert.Single(_logs.WithEvent(4102));
        Assert.Equal(LogLevel.Error, _logs.WithEvent(4102)[0].Level);

        await source.StopAsync(TestContext.Current.CancellationToken);
        await app.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Periodic_recheck_picks_up_a_rotation_the_watch_missed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = _certificates.WritePlain("kwarm-first");
        using var source = CreateSource(time, TimeSpan.FromSeconds(10), watch: false);
        await source.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal(first, source.Current!.Thumbprint);

        var second = _certificates.WritePlain("kwarm-second");
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(first, source.Current!.Thumbprint);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(second, source.Current!.Thumbprint);
    }

    [Fact]
    public async Task Readiness_check_passes_only_once_a_certificate_is_loaded()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var source = CreateSource(time, TimeSpan.FromSeconds(10), watch: false);
        await source.StartAsync(TestContext.Current.CancellationToken);

        var readiness = new ServingCertificateHealthCheck(source);
        Assert.Null(source.Current);
        Assert.Equal(HealthStatus.Unhealthy, (await readiness.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken)).Status);
        Assert.Single(_logs.WithEvent(4103));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Single(_logs.WithEvent(4103)); // the same missing files are reported once, not every period

        var thumbprint = _certificates.PublishAtomically("kwarm-late");
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(thumbprint, source.Current!.Thumbprint);
        Assert.Equal(HealthStatus.Healthy, (await readiness.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken)).Status);
    }

    [Fact]
    public async Task Garbage_files_keep_the_previous_certificate_and_are_reported_once()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var first = _certificates.WritePlain("kwarm-first");
        using var source = CreateSource(time, TimeSpan.FromSeconds(10), watch: false);
        await source.StartAsync(TestContext.Current.CancellationToken);

        await File.WriteAllTextAsync(Path.Combine(_certificates.Directory, "tls.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n", TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(first, source.Current!.Thumbprint);
        Assert.Single(_logs.WithEvent(4102));
    }

    /// <summary>Rotation is asynchronous (a file-system event); poll the listener until it presents the expected certificate.</summary>
    private static async Task<string> WaitForCertificateAsync(int port, string expected)
    {
        string presented = "";
        for (var attempt = 0; attempt < 200; attempt++)
        {
            presented = await HandshakeAsync(port);
            if (presented == expected)
            {
                break;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        return presented;
    }

    /// <summary>A fresh TLS handshake; returns the thumbprint of the certificate the server presented.</summary>
    private static async Task<string> HandshakeAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            // Self-signed on purpose: the test checks which certificate is presented, not who signed it.
            return presented is not null;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, TestContext.Current.CancellationToken);
        using (presented)
        {
            return presented!.Thumbprint;
        }
    }
}
