using System.Net;
using System.Net.Sockets;
using Kwarm.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Kwarm.Tests.Hosting;

public sealed class KwarmListenersTests
{
    [Fact]
    public async Task Healthz_answers_200_on_the_probe_port()
    {
        await using var kwarm = await RunningKwarm.StartAsync();

        using var response = await kwarm.GetAsync(KwarmListener.Probes, "/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_is_503_naming_each_failing_check_until_all_pass_and_healthz_runs_none()
    {
        var caches = new SwitchableCheck("caches not synced: nodes, pods");
        var election = new SwitchableCheck("the leader election loop is not running");
        var notForReadiness = new SwitchableCheck("untagged");
        await using var kwarm = await RunningKwarm.StartAsync(builder => builder.Services.AddHealthChecks()
            .AddCheck("caches", caches, tags: [KwarmHealthChecks.ReadyTag])
            .AddCheck("leader-election", election, tags: [KwarmHealthChecks.ReadyTag])
            .AddCheck("untagged", notForReadiness));

        Assert.Equal(
            (HttpStatusCode.ServiceUnavailable, "not ready: caches (caches not synced: nodes, pods); leader-election (the leader election loop is not running)\n"),
            await AnswerAsync(kwarm, "/readyz"));

        // Liveness is the process answering: no check, however failing, restarts it.
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await AnswerAsync(kwarm, "/healthz"));

        election.Healthy = true;
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "not ready: caches (caches not synced: nodes, pods)\n"), await AnswerAsync(kwarm, "/readyz"));

        caches.Healthy = true;
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await AnswerAsync(kwarm, "/readyz"));

        election.Healthy = false;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await AnswerAsync(kwarm, "/readyz")).Status);
    }

    [Fact]
    public async Task Readyz_waits_for_a_certificate_and_the_webhook_refuses_handshakes_without_one()
    {
        await using var kwarm = await RunningKwarm.StartAsync(mapWebhook: webhook => webhook.MapPost("/mutate/deployments", () => Results.Text("ok")));
        kwarm.Certificates.Replace(null);

        using (var pending = await kwarm.GetAsync(KwarmListener.Probes, "/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, pending.StatusCode);
            Assert.Equal("not ready: certificate (no serving certificate loaded)\n", await pending.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            kwarm.Client.PostAsync(kwarm.Url(KwarmListener.Webhook, "/mutate/deployments"), null, TestContext.Current.CancellationToken));

        kwarm.Certificates.Replace(FixedServingCertificate.Create("kwarm-webhook.kwarm-system.svc"));
        using var ready = await kwarm.GetAsync(KwarmListener.Probes, "/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var served = await kwarm.Client.PostAsync(kwarm.Url(KwarmListener.Webhook, "/mutate/deployments"), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Each_route_is_served_only_on_its_own_port()
    {
        await using var kwarm = await RunningKwarm.StartAsync(mapWebhook: webhook => webhook.MapPost("/mutate/deployments", () => Results.Text("mutated")));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(kwarm, KwarmListener.Metrics, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(kwarm, KwarmListener.Probes, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(kwarm, KwarmListener.Webhook, "/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(kwarm, KwarmListener.Metrics, "/healthz"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(kwarm, KwarmListener.Webhook, "/readyz"));

        using var onWebhook = await kwarm.Client.PostAsync(kwarm.Url(KwarmListener.Webhook, "/mutate/deployments"), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, onWebhook.StatusCode);
        Assert.Equal("mutated", await onWebhook.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        using var onProbes = await kwarm.Client.PostAsync(kwarm.Url(KwarmListener.Probes, "/mutate/deployments"), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, onProbes.StatusCode);
    }

    [Fact]
    public async Task Responses_do_not_advertise_the_server()
    {
        await using var kwarm = await RunningKwarm.StartAsync();

        using var response = await kwarm.GetAsync(KwarmListener.Probes, "/healthz");

        Assert.Empty(response.Headers.Server);
    }

    [Fact]
    public async Task Host_header_naming_another_port_does_not_reach_its_routes()
    {
        await using var kwarm = await RunningKwarm.StartAsync();
        var metricsPort = kwarm.Url(KwarmListener.Metrics, "/").Port;
        using var request = new HttpRequestMessage(HttpMethod.Get, kwarm.Url(KwarmListener.Probes, "/metrics"));
        request.Headers.Host = $"127.0.0.1:{metricsPort}";

        using var response = await kwarm.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Webhook_serves_TLS_with_the_current_certificate_of_the_source()
    {
        await using var kwarm = await RunningKwarm.StartAsync(mapWebhook: webhook => webhook.MapPost("/mutate/deployments", () => Results.Text("ok")));
        var first = kwarm.Certificates.Current!.Thumbprint;

        using (var response = await kwarm.Client.PostAsync(kwarm.Url(KwarmListener.Webhook, "/mutate/deployments"), null, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(first, kwarm.LastServerCertificate?.Thumbprint);

        // A rotated certificate is served from the next handshake on, without a restart.
        kwarm.Certificates.Replace(FixedServingCertificate.Create("rotated.kwarm-system.svc"));
        var rotated = kwarm.Certificates.Current!.Thumbprint;
        using var freshClient = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == rotated,
        });
        using var afterRotation = await freshClient.PostAsync(kwarm.Url(KwarmListener.Webhook, "/mutate/deployments"), null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, afterRotation.StatusCode);
        Assert.NotEqual(first, rotated);
    }

    [Fact]
    public async Task Webhook_refuses_plain_HTTP()
    {
        await using var kwarm = await RunningKwarm.StartAsync();
        var tls = kwarm.Url(KwarmListener.Webhook, "/mutate/deployments");

        // Kestrel closes a connection that does not start with a TLS handshake: nothing is served in clear text.
        await Assert.ThrowsAsync<HttpRequestException>(() =>
            kwarm.Client.GetAsync(new UriBuilder(tls) { Scheme = "http" }.Uri, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_port_already_in_use_exits_1_with_one_line()
    {
        using var occupier = new TcpListener(IPAddress.Loopback, 0);
        occupier.Start();
        var port = ((IPEndPoint)occupier.LocalEndpoint).Port;
        var stderr = new StringWriter();
        var launch = KwarmHost.Prepare(
            [$"--metrics-bind-address=127.0.0.1:{port}", "--health-probe-bind-address=127.0.0.1:0", "--webhook-bind-address=127.0.0.1:0"],
            new Dictionary<string, string>(StringComparer.Ordinal), TextWriter.Null, TextWriter.Null, AppContext.BaseDirectory);
        var builder = launch.Builder!;
        builder.Logging.ClearProviders();
        using var certificates = new FixedServingCertificate("kwarm");
        builder.Services.AddSingleton<IServingCertificateSource>(certificates);
        await using var app = builder.Build();
        app.MapKwarmEndpoints();

        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);

        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        var line = Assert.Single(stderr.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kwarm: failed to start: ", line, StringComparison.Ordinal);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, string Body)> AnswerAsync(RunningKwarm kwarm, string path)
    {
        using var response = await kwarm.GetAsync(KwarmListener.Probes, path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static async Task<HttpStatusCode> StatusAsync(RunningKwarm kwarm, KwarmListener listener, string path)
    {
        using var response = await kwarm.GetAsync(listener, path);
        return response.StatusCode;
    }

    /// <summary>A check the test turns healthy or unhealthy.</summary>
    private sealed class SwitchableCheck(string reason) : IHealthCheck
    {
        private volatile bool _healthy;

        public bool Healthy
        {
            get => _healthy;
            set => _healthy = value;
        }

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(_healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(reason));
    }
}
