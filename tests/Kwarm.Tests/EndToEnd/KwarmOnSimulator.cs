using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using Kwarm.Admission;
using Kwarm.Holds;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Kwarm.Simulator.Admission;
using Kwarm.Simulator.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kwarm.Tests.EndToEnd;

/// <summary>
/// An end-to-end test bed: the cluster simulator with Kwarm's CRDs and its MutatingWebhookConfiguration (from
/// <c>deploy/</c>, with a test CA in <c>caBundle</c>), and Kwarm replicas started in-process with the real host —
/// flags, informers, webhook over TLS with certificate files, leader-only controllers — talking to the simulator
/// under Kwarm's own service account. People's actions go through the real kubectl (<see cref="Kubectl"/>).
/// </summary>
public sealed class KwarmOnSimulator : IAsyncDisposable
{
    public const string KwarmNamespace = "kwarm-system";
    public const string WebhookService = KwarmNamespace + "/kwarm-webhook";

    private readonly string _directory;
    private readonly List<KwarmReplica> _replicas = [];
    private readonly string _caBundle;

    private KwarmOnSimulator(SimulatedCluster cluster, string directory, string caBundle, string kwarmKubeconfig)
    {
        Cluster = cluster;
        _directory = directory;
        _caBundle = caBundle;
        KwarmKubeconfig = kwarmKubeconfig;
        Kubectl = new KubectlProcess(cluster.KubeconfigPath);
        Client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));
    }

    public SimulatedCluster Cluster { get; }

    /// <summary>kubectl as the cluster admin (a person).</summary>
    public KubectlProcess Kubectl { get; }

    /// <summary>A client as the cluster admin, for reading state in assertions.</summary>
    public IKubernetes Client { get; }

    /// <summary>Kubeconfig of Kwarm's service account (kwarm-system/kwarm): the webhook lets its writes through.</summary>
    public string KwarmKubeconfig { get; }

    public IReadOnlyList<KwarmReplica> Replicas => _replicas;

    /// <summary>Directory holding <c>Kwarm.sln</c>.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Starts the simulator and installs Kwarm's CRDs and webhook configuration; start replicas with <see cref="StartKwarmAsync"/>.</summary>
    public static async Task<KwarmOnSimulator> StartAsync(SimulatorOptions? options = null)
    {
        var cancellation = TestContext.Current.CancellationToken;
        var cluster = await SimulatedCluster.StartAsync(options ?? new SimulatorOptions { Nodes = 3, TimeFactor = 0.01 }, cancellation);
        try
        {
            var directory = Directory.CreateTempSubdirectory("kwarm-e2e-").FullName;
            var caBundle = WriteServingCertificate(directory);
            var kwarmKubeconfig = await cluster.CreateKubeconfigAsync(UserInfo.ServiceAccount(KwarmNamespace, "kwarm"), Path.Combine(directory, "kwarm.kubeconfig"), cancellation);
            var bed = new KwarmOnSimulator(cluster, directory, caBundle, kwarmKubeconfig);
            await bed.Kubectl.SucceedAsync("apply", "-k", Path.Combine(RepositoryRoot, "deploy", "crds"));
            await bed.Kubectl.ApplyAsync($"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {KwarmNamespace}\n");
            var webhook = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot, "deploy", "webhook", "mutating-webhook-configuration.yaml"), cancellation);
            const string clientConfig = "    clientConfig:\n";
            Assert.Contains(clientConfig, webhook, StringComparison.Ordinal);
            await bed.Kubectl.ApplyAsync(webhook.Replace(clientConfig, clientConfig + $"      caBundle: {caBundle}\n", StringComparison.Ordinal));
            return bed;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts one Kwarm replica and routes the webhook Service to it (the newest replica serves the webhook).
    /// Returns once it is ready (caches synced, certificate loaded). <paramref name="configure"/> adds or
    /// replaces services, e.g. a component not yet in the default set.
    /// </summary>
    public async Task<KwarmReplica> StartKwarmAsync(bool leaderElect = false, Action<IServiceCollection>? configure = null)
    {
        var stderr = new StringWriter();
        string[] args =
        [
            "--kubeconfig=" + KwarmKubeconfig, "--namespace=" + KwarmNamespace, "--leader-elect=" + (leaderElect ? "true" : "false"),
            "--webhook-cert-dir=" + _directory, "--webhook-bind-address=127.0.0.1:0", "--metrics-bind-address=127.0.0.1:0",
            "--health-probe-bind-address=127.0.0.1:0", "--log-format=text",
        ];
        var launch = KwarmHost.Prepare(args, new Dictionary<string, string>(StringComparer.Ordinal), TextWriter.Null, stderr, AppContext.BaseDirectory);
        var builder = launch.Builder ?? throw new InvalidOperationException(stderr.ToString());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddKwarmKubernetes(plumbing => plumbing.LeaderElection = plumbing.LeaderElection with
        {
            LeaseDuration = TimeSpan.FromSeconds(3),
            RenewDeadline = TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(500),
        });
        builder.Services.AddKwarmAdmission();
        builder.Services.AddPolicyCatalogFeed();
        builder.Services.AddKwarmHolds();
        configure?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapKwarmEndpoints(webhook => webhook.MapKwarmAdmission());
        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);
        if (exitCode is not null)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"Kwarm did not start ({exitCode}): {stderr}");
        }

        var replica = new KwarmReplica(app);
        _replicas.Add(replica);
        Cluster.MapWebhookService(WebhookService, replica.EndPoint(KwarmListener.Webhook));
        await replica.WaitUntilReadyAsync();
        return replica;
    }

    /// <summary>Stops a replica at once, as a killed pod (no graceful hand-over of anything but the process).</summary>
    public async Task StopKwarmAsync(KwarmReplica replica)
    {
        ArgumentNullException.ThrowIfNull(replica);
        _replicas.Remove(replica);
        await replica.DisposeAsync();
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, double seconds = 20)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {seconds}s waiting for {what}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas.ToList())
        {
            await replica.DisposeAsync();
        }

        Client.Dispose();
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A self-signed serving certificate for the webhook Service's DNS name, as tls.crt/tls.key; returns the caBundle.</summary>
    private static string WriteServingCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kwarm-webhook.kwarm-system.svc", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("kwarm-webhook.kwarm-system.svc");
        names.AddDnsName("kwarm-webhook.kwarm-system.svc.cluster.local");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(2));
        var pem = certificate.ExportCertificatePem() + "\n";
        File.WriteAllText(Path.Combine(directory, "tls.crt"), pem);
        File.WriteAllText(Path.Combine(directory, "tls.key"), key.ExportPkcs8PrivateKeyPem() + "\n");
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(pem));
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Kwarm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Kwarm.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>One in-process Kwarm: its host and the addresses it listens on.</summary>
public sealed class KwarmReplica : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _disposed;

    internal KwarmReplica(WebApplication app) => _app = app;

    public IServiceProvider Services => _app.Services;

    public IPEndPoint EndPoint(KwarmListener listener) =>
        _app.Services.GetRequiredService<KwarmListeners>().EndPointOf(listener) ?? throw new InvalidOperationException($"{listener} is not bound");

    /// <summary>True while this replica holds the leader Lease (always, without --leader-elect).</summary>
    public bool IsLeader => _app.Services.GetRequiredService<LeaderElection>().IsLeader;

    public async Task WaitUntilReadyAsync()
    {
        var probes = EndPoint(KwarmListener.Probes);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await KwarmOnSimulator.WaitUntilAsync(
            async () =>
            {
                using var response = await http.GetAsync(new Uri($"http://{probes.Address}:{probes.Port}/readyz"), TestContext.Current.CancellationToken);
                return response.IsSuccessStatusCode;
            },
            "Kwarm /readyz");
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
