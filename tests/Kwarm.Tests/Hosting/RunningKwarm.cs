using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Kwarm.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kwarm.Tests.Hosting;

/// <summary>The real host, started in-process on free ports of 127.0.0.1 with a test certificate source.</summary>
internal sealed class RunningKwarm : IAsyncDisposable
{
    private readonly Microsoft.AspNetCore.Builder.WebApplication _app;
    private readonly HttpClientHandler _handler;

    private RunningKwarm(Microsoft.AspNetCore.Builder.WebApplication app, FixedServingCertificate certificates)
    {
        _app = app;
        Certificates = certificates;
        _handler = new HttpClientHandler
        {
            // The test trusts whatever the webhook presents and keeps it, so a test can check it is the source's.
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                LastServerCertificate = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.RawData);
                return true;
            },
        };
        Client = new HttpClient(_handler) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public FixedServingCertificate Certificates { get; }

    public HttpClient Client { get; }

    public X509Certificate2? LastServerCertificate { get; private set; }

    public IServiceProvider Services => _app.Services;

    public static async Task<RunningKwarm> StartAsync(
        Action<WebApplicationBuilder>? configure = null,
        Action<IEndpointRouteBuilder>? mapWebhook = null)
    {
        var stderr = new StringWriter();
        string[] args =
        [
            "--webhook-bind-address=127.0.0.1:0", "--metrics-bind-address=127.0.0.1:0",
            "--health-probe-bind-address=127.0.0.1:0", "--log-format=text",
        ];
        var launch = KwarmHost.Prepare(args, new Dictionary<string, string>(StringComparer.Ordinal), TextWriter.Null, stderr,
            contentRootPath: AppContext.BaseDirectory);
        var builder = launch.Builder ?? throw new InvalidOperationException(stderr.ToString());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var certificates = new FixedServingCertificate("kwarm-webhook.kwarm-system.svc");
        builder.Services.AddSingleton<IServingCertificateSource>(certificates);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapKwarmEndpoints(mapWebhook);
        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);
        if (exitCode is not null)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"Kwarm did not start ({exitCode}): {stderr}");
        }

        return new RunningKwarm(app, certificates);
    }

    public Uri Url(KwarmListener listener, string path)
    {
        var endPoint = _app.Services.GetRequiredService<KwarmListeners>().EndPointOf(listener)
            ?? throw new InvalidOperationException($"{listener} is not bound");
        var scheme = listener == KwarmListener.Webhook ? "https" : "http";
        return new Uri($"{scheme}://{endPoint.Address}:{endPoint.Port}{path}");
    }

    public Task<HttpResponseMessage> GetAsync(KwarmListener listener, string path) =>
        Client.GetAsync(Url(listener, path), TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        _handler.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        Certificates.Dispose();
    }
}
