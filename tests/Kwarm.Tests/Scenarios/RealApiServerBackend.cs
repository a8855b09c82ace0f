using System.Text;
using k8s;
using k8s.Models;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;
using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.EndToEnd;
using Kwarm.Tests.Resources;

namespace Kwarm.Tests.Scenarios;

/// <summary>
/// A real control plane (kube-apiserver, kube-controller-manager, kube-scheduler v1.24 and etcd, started for this
/// scenario alone) with the simulator's nodes attached, and Kwarm installed the way a platform team installs it:
/// the CRDs of <c>deploy/crds</c>, the service account and roles of <c>deploy/rbac</c>, each replica connecting with a
/// token from TokenRequest (so the real RBAC authorizer judges every call), and the webhook configuration of
/// <c>deploy/webhook</c> registered with a URL client config (no kube-proxy here), the caBundle filled in as
/// cert-manager's injector would.
/// </summary>
public sealed class RealApiServerBackend : IClusterBackend
{
    private const string WebhookServiceHost = "kwarm-webhook.kwarm-system.svc";

    private readonly ControlPlane _plane;
    private readonly AttachedNodes _nodes;
    private readonly string _certificateDirectory;
    private readonly string _caBundle;
    private readonly List<KwarmInstance> _replicas = [];

    private RealApiServerBackend(ControlPlane plane, AttachedNodes nodes)
    {
        _plane = plane;
        _nodes = nodes;
        Kubectl = new Kubectl(plane.AdminKubeconfig);
        _certificateDirectory = Path.Combine(plane.Directory, "serving-certs");
        _caBundle = WebhookServingCertificate.Write(_certificateDirectory, WebhookServiceHost, TimeProvider.System);
    }

    public string Name => "kube-apiserver v1.24";

    public IKubernetes Client => _plane.AdminClient;

    public Kubectl Kubectl { get; }

    public ImageRegistry Registry => _nodes.Registry;

    /// <summary>kube-apiserver's audit log is not read here; what is asserted of Kwarm's requests is asserted on the simulator.</summary>
    public RequestAudit? Audit => null;

    public string KwarmUser => KwarmTestCluster.OperatorUser;

    /// <summary>In a cluster every replica runs as Kwarm's service account; so does the standby here.</summary>
    public string StandbyUser => KwarmTestCluster.OperatorUser;

    public IReadOnlyList<KwarmInstance> Replicas => _replicas;

    /// <summary>The logs of the control plane and the attached nodes' errors, for a failing scenario's message.</summary>
    public string Diagnostics => $"{_plane.Logs}\n--- attached nodes ---\n{string.Join("\n", _nodes.Errors)}";

    /// <summary>
    /// Starts a control plane with <paramref name="nodes"/> attached nodes named <c>node-0001</c> on (Ready, the
    /// not-ready taint removed) and Kwarm's CRDs, namespace and RBAC installed; Kwarm itself starts with <see cref="StartKwarmAsync"/>.
    /// </summary>
    public static async Task<RealApiServerBackend> StartAsync(ControlPlaneAssets assets, int nodes, double timeFactor)
    {
        ArgumentNullException.ThrowIfNull(assets);
        var token = TestContext.Current.CancellationToken;
        var plane = await ControlPlane.StartAsync(assets, token);
        AttachedNodes? attached = null;
        try
        {
            var kubectl = new Kubectl(plane.AdminKubeconfig);
            await kubectl.SucceedAsync("apply", "-f", RepositoryFiles.PrePullPolicyCrd, "-f", RepositoryFiles.PrePullImageCrd);
            await kubectl.SucceedAsync("create", "namespace", "kwarm-system");
            await kubectl.SucceedAsync("apply", "-k", Path.Combine(RepositoryFiles.Root, "deploy", "rbac"));
            await kubectl.SucceedAsync("wait", "--for=condition=Established", "--timeout=60s",
                "crd/prepullpolicies.kwarm.io", "crd/prepullimages.kwarm.io");
            attached = await AttachedNodes.StartAsync(
                new AttachOptions
                {
                    KubeconfigPath = plane.AdminKubeconfig,
                    Nodes = nodes,
                    NamePrefix = "node",
                    Simulation = new SimulatorOptions { TimeFactor = timeFactor },
                },
                cancellationToken: token);
            var backend = new RealApiServerBackend(plane, attached);
            await backend.WaitNodesReadyAsync(nodes);
            return backend;
        }
        catch
        {
            if (attached is not null)
            {
                await attached.DisposeAsync();
            }

            await plane.DisposeAsync();
            throw;
        }
    }

    public async Task<KwarmInstance> StartKwarmAsync(params string[] extraArgs)
    {
        // A fresh token per replica, as each pod's projected service account token is its own.
        var token = (await Kubectl.SucceedAsync("-n", "kwarm-system", "create", "token", "kwarm", "--duration=2h")).Trim();
        var kubeconfig = _plane.TokenKubeconfig($"kwarm-{_replicas.Count + 1}", token);
        var replica = await KwarmInstance.StartAsync(kubeconfig, _certificateDirectory, extraArgs, TimeSpan.FromSeconds(90));
        _replicas.Add(replica);
        if (_replicas.Count == 1)
        {
            await RegisterWebhookAsync(replica);
        }

        return replica;
    }

    public Task<KwarmInstance> StartStandbyKwarmAsync(params string[] extraArgs) => StartKwarmAsync(extraArgs);

    public async Task RouteWebhookToAsync(KwarmInstance replica)
    {
        ArgumentNullException.ThrowIfNull(replica);
        var token = TestContext.Current.CancellationToken;
        var configuration = await Client.AdmissionregistrationV1.ReadMutatingWebhookConfigurationAsync("kwarm", cancellationToken: token);
        foreach (var webhook in configuration.Webhooks)
        {
            webhook.ClientConfig.Url = WebhookUrl(replica, webhook.ClientConfig.Url);
        }

        await Client.AdmissionregistrationV1.ReplaceMutatingWebhookConfigurationAsync(configuration, "kwarm", cancellationToken: token);
        await WaitWebhookServedByAsync(replica);
    }

    public async Task AddNodesAsync(IReadOnlyList<NodeSpec> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        await _nodes.AddNodesAsync(nodes, TestContext.Current.CancellationToken);
        await WaitNodesReadyAsync(_nodes.NodeNames.Count);
    }

    public IReadOnlyCollection<string> CachedImages(string node) => _nodes.CachedImages(node);

    public int PullCount(string node) => _nodes.PullCount(node);

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        await _nodes.DisposeAsync();
        await _plane.DisposeAsync();
    }

    private async Task RegisterWebhookAsync(KwarmInstance replica)
    {
        var token = TestContext.Current.CancellationToken;
        var path = Path.Combine(RepositoryFiles.Root, "deploy", "webhook", "mutating-webhook-configuration.yaml");
        var configuration = KubernetesYaml.Deserialize<V1MutatingWebhookConfiguration>(await File.ReadAllTextAsync(path, token));
        foreach (var webhook in configuration.Webhooks)
        {
            // The Service's path, on the replica's own address: what the Service would resolve to.
            webhook.ClientConfig.Url = WebhookUrl(replica, "https://placeholder" + webhook.ClientConfig.Service?.Path);
            webhook.ClientConfig.Service = null;
            webhook.ClientConfig.CaBundle = Encoding.ASCII.GetBytes(_caBundle);
        }

        await Client.AdmissionregistrationV1.CreateMutatingWebhookConfigurationAsync(configuration, cancellationToken: token);
        await WaitWebhookServedByAsync(replica);
    }

    private static string WebhookUrl(KwarmInstance replica, string current) =>
        new UriBuilder(new Uri(current)) { Scheme = "https", Host = "127.0.0.1", Port = replica.WebhookEndPoint.Port }.Uri.ToString();

    /// <summary>
    /// The API server picks a webhook configuration up from its own informer, a moment after the write: server-side
    /// dry runs of a Deployment until <paramref name="replica"/> counts an admission request show it in force.
    /// </summary>
    private async Task WaitWebhookServedByAsync(KwarmInstance replica)
    {
        var token = TestContext.Current.CancellationToken;
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var before = await WebhookRequestsAsync(http, replica, token);
        while (true)
        {
            await Kubectl.SucceedAsync("-n", "default", "create", "deployment", "kwarm-webhook-probe", "--image=registry.local/probe:1", "--dry-run=server");
            if (await WebhookRequestsAsync(http, replica, token) > before)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"the API server did not call the webhook at {replica.WebhookEndPoint} within 30 s\n{Diagnostics}");
            }

            await Task.Delay(200, token);
        }
    }

    /// <summary>The replica's <c>kwarm_webhook_requests_total</c>, over every decision.</summary>
    private static async Task<double> WebhookRequestsAsync(HttpClient http, KwarmInstance replica, CancellationToken token)
    {
        var metrics = await http.GetStringAsync(replica.MetricsUri, token);
        return metrics.Split('\n')
            .Where(line => line.StartsWith("kwarm_webhook_requests_total{", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task WaitNodesReadyAsync(int count)
    {
        var token = TestContext.Current.CancellationToken;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var nodes = (await Client.CoreV1.ListNodeAsync(cancellationToken: token)).Items;
            var ready = nodes.Count(node =>
                node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true
                && (node.Spec.Taints is null || node.Spec.Taints.Count == 0 || node.Spec.Taints.All(t => !t.Key.StartsWith("node.kubernetes.io/", StringComparison.Ordinal))));
            if (ready >= count)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{ready} of {count} attached nodes Ready and untainted after 60 s\n{Diagnostics}");
            }

            await Task.Delay(100, token);
        }
    }
}
