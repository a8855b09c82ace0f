using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Admission;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kwarm.Simulator.Hosting;

/// <summary>
/// A whole simulated cluster in one process: the HTTPS API server on 127.0.0.1, its store, admission webhooks,
/// controllers, scheduler and kubelets. Start with <see cref="StartAsync"/>, point any client at <see cref="KubeconfigPath"/>.
/// </summary>
public sealed partial class SimulatedCluster : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ClusterCertificates _certificates;
    private readonly string? _temporaryDirectory;
    private readonly CancellationTokenSource _stopping = new();

    private SimulatedCluster(SimulatorOptions options, WebApplication app, ClusterCertificates certificates, ObjectStore store, ResourceCatalog catalog, ApiServer server, WebhookDispatcher webhooks, string token, string? temporaryDirectory)
    {
        Webhooks = webhooks;
        Options = options;
        _app = app;
        _certificates = certificates;
        Store = store;
        Catalog = catalog;
        Server = server;
        Token = token;
        _temporaryDirectory = temporaryDirectory;
        KubeconfigPath = "";
    }

    public SimulatorOptions Options { get; }

    public ObjectStore Store { get; }

    public ResourceCatalog Catalog { get; }

    internal ApiServer Server { get; }

    /// <summary>The bearer token the kubeconfig carries.</summary>
    public string Token { get; }

    public Uri ServerUri { get; private set; } = new("https://127.0.0.1");

    /// <summary>The admission webhook caller: <see cref="WebhookDispatcher.MapService"/> routes a Service to a loopback port, <see cref="WebhookDispatcher.Calls"/> counts calls.</summary>
    public WebhookDispatcher Webhooks { get; }

    /// <summary>Routes webhook calls for Service <c>namespace/name</c> to <paramref name="endpoint"/> (127.0.0.1:port).</summary>
    public void MapWebhookService(string namespaceAndName, IPEndPoint endpoint) => Webhooks.MapService(namespaceAndName, endpoint);

    public string KubeconfigPath { get; private set; }

    /// <summary>PEM of the cluster CA (what a client must trust).</summary>
    public string CertificateAuthorityPem => _certificates.AuthorityPem;

    /// <summary>Requests served so far.</summary>
    public long RequestCount => Server.RequestCount;

    /// <summary>Every resource request answered so far, by user, verb, resource and namespace.</summary>
    public RequestAudit Audit => Server.Audit;

    internal CancellationToken Stopping => _stopping.Token;

    public static async Task<SimulatedCluster> StartAsync(SimulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SimulatorOptions();
        options.Validate();
        var scenario = options.ScenarioPath is null ? null : Scenario.Load(options.ScenarioPath);
        scenario?.CheckNodeNames(options.ScenarioPath!, options.RunControllers ? options.Nodes : 0);
        var certificates = ClusterCertificates.Create(options.Time);
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var store = new ObjectStore(options.Time, options.WatchHistorySize);
        var catalog = new ResourceCatalog();
        var webhooks = new WebhookDispatcher(store, catalog, options);
        var server = new ApiServer(catalog, store, webhooks, options.Time, token, options.BookmarkInterval);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 8 * 1024 * 1024;
            kestrel.Limits.MaxConcurrentConnections = null;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificates.Serving);
            });
        });
        var app = builder.Build();
        app.Run(server.HandleAsync);

        string? temporaryDirectory = null;
        var kubeconfigPath = options.KubeconfigPath;
        if (kubeconfigPath is null)
        {
            temporaryDirectory = Directory.CreateTempSubdirectory("kwarm-sim-").FullName;
            kubeconfigPath = Path.Combine(temporaryDirectory, "kubeconfig");
        }

        var cluster = new SimulatedCluster(options, app, certificates, store, catalog, server, webhooks, token, temporaryDirectory);
        cluster.SeedNamespaces();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)).Port;
        cluster.ServerUri = new Uri($"https://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        cluster.KubeconfigPath = Path.GetFullPath(kubeconfigPath);
        try
        {
            await File.WriteAllTextAsync(cluster.KubeconfigPath, cluster.Kubeconfig(), cancellationToken).ConfigureAwait(false);
            cluster.StartSimulation(scenario);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    /// <summary>
    /// Writes a kubeconfig for another identity (e.g. <see cref="UserInfo.ServiceAccount"/> for the operator's own
    /// service account, which webhooks see in userInfo) and returns its path.
    /// </summary>
    public async Task<string> CreateKubeconfigAsync(UserInfo user, string? path = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        Server.AddUser(token, user);
        path ??= Path.Combine(_temporaryDirectory ?? Path.GetDirectoryName(KubeconfigPath)!, $"kubeconfig-{token[..8]}");
        await File.WriteAllTextAsync(path, Kubeconfig(token), cancellationToken).ConfigureAwait(false);
        return Path.GetFullPath(path);
    }

    /// <summary>The kubeconfig text: server URL, CA, bearer token, default namespace.</summary>
    public string Kubeconfig() => Kubeconfig(Token);

    private string Kubeconfig(string token)
    {
        var ca = Convert.ToBase64String(Encoding.ASCII.GetBytes(_certificates.AuthorityPem));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: kwarm-sim
              cluster:
                server: {ServerUri.ToString().TrimEnd('/')}
                certificate-authority-data: {ca}
            users:
            - name: kwarm-sim-admin
              user:
                token: {token}
            contexts:
            - name: kwarm-sim
              context:
                cluster: kwarm-sim
                user: kwarm-sim-admin
                namespace: default
            current-context: kwarm-sim

            """;
    }

    /// <summary>An HttpClient that trusts the cluster CA and sends the bearer token, with <see cref="ServerUri"/> as base.</summary>
    public HttpClient CreateHttpClient()
    {
        var authority = _certificates.Authority;
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, errors) =>
                (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) == 0 && ClusterCertificates.ChainsTo(certificate, authority),
        };
        var client = new HttpClient(handler) { BaseAddress = ServerUri };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return client;
    }

    private void SeedNamespaces()
    {
        var type = Catalog.Get("", "namespaces");
        foreach (var name in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            var ns = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name } };
            BuiltInDefaults.Apply(type, ns);
            Store.Create(type, ns);
        }

        var accounts = Catalog.Get("", "serviceaccounts");
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            Store.Create(accounts, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ServiceAccount", ["metadata"] = new JsonObject { ["name"] = "default", ["namespace"] = ns } });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Server.StopWatches();
        await StopSimulationAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _certificates.Dispose();
        Webhooks.Dispose();
        Server.Dispose();
        _stopping.Dispose();
        if (_temporaryDirectory is not null)
        {
            try
            {
                Directory.Delete(_temporaryDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A kubeconfig still held open elsewhere is harmless in a temp directory.
            }
        }
    }
}
