using k8s;
using k8s.Models;
using Kwarm.Simulator.Admission;
using Kwarm.Simulator.Hosting;
using Kwarm.Tests.Resources;

namespace Kwarm.Tests.EndToEnd;

/// <summary>
/// A simulated cluster with Kwarm installed as a platform team would install it: the CRDs and the webhook
/// configuration from <c>deploy/</c>, a serving certificate whose CA is the webhook's caBundle, and Kwarm
/// replicas running in this process from a kubeconfig. The webhook Service maps to the replica started first,
/// or to whichever <see cref="RouteWebhookTo"/> names.
/// </summary>
public sealed class KwarmTestCluster : IAsyncDisposable
{
    public const string WebhookService = "kwarm-system/kwarm-webhook";

    private readonly List<KwarmInstance> _replicas = [];
    private readonly string _directory;

    private KwarmTestCluster(SimulatedCluster cluster, string directory, string certificateDirectory, string caBundlePem, string operatorKubeconfig)
    {
        Cluster = cluster;
        OperatorKubeconfig = operatorKubeconfig;
        _directory = directory;
        CertificateDirectory = certificateDirectory;
        CaBundlePem = caBundlePem;
        Client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));
        Kubectl = new Kubectl(cluster.KubeconfigPath);
    }

    public SimulatedCluster Cluster { get; }

    /// <summary>
    /// What Kwarm's replicas connect with: the token of service account <c>kwarm-system/kwarm</c>, as in a cluster, so the
    /// API server's audit tells Kwarm's calls apart from the test's and webhooks see Kwarm's own identity.
    /// </summary>
    public string OperatorKubeconfig { get; }

    public const string OperatorUser = "system:serviceaccount:kwarm-system:kwarm";

    /// <summary>The cluster admin, as a person running kubectl.</summary>
    public IKubernetes Client { get; }

    public Kubectl Kubectl { get; }

    public string CertificateDirectory { get; }

    public string CaBundlePem { get; }

    public IReadOnlyList<KwarmInstance> Replicas => _replicas;

    /// <summary>Starts the simulator, installs the CRDs and Kwarm's namespace; Kwarm itself starts with <see cref="StartKwarmAsync"/>.</summary>
    public static async Task<KwarmTestCluster> StartAsync(SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var directory = Directory.CreateTempSubdirectory("kwarm-e2e-").FullName;
        var certificateDirectory = Path.Combine(directory, "serving-certs");
        var caBundle = WebhookServingCertificate.Write(certificateDirectory, "kwarm-webhook.kwarm-system.svc", TimeProvider.System);
        var cluster = await SimulatedCluster.StartAsync(options with { KubeconfigPath = Path.Combine(directory, "admin.kubeconfig") });
        var operatorKubeconfig = await cluster.CreateKubeconfigAsync(
            UserInfo.ServiceAccount("kwarm-system", "kwarm"), Path.Combine(directory, "kwarm.kubeconfig"), TestContext.Current.CancellationToken);
        var installed = new KwarmTestCluster(cluster, directory, certificateDirectory, caBundle, operatorKubeconfig);
        await installed.Kubectl.SucceedAsync("apply", "-f", RepositoryFiles.PrePullPolicyCrd, "-f", RepositoryFiles.PrePullImageCrd);
        await installed.Kubectl.SucceedAsync("create", "namespace", "kwarm-system");
        return installed;
    }

    /// <summary>
    /// Starts one more Kwarm replica and waits for it to be ready. The first one also registers the webhook
    /// configuration of <c>deploy/webhook</c> (the caBundle filled in as cert-manager's injector would).
    /// </summary>
    public Task<KwarmInstance> StartKwarmAsync(params string[] extraArgs) => StartKwarmAsync(OperatorKubeconfig, extraArgs);

    /// <summary>
    /// Starts a replica that connects as service account <c>kwarm-system/<paramref name="serviceAccount"/></c> instead of
    /// Kwarm's own, so that the API server's audit tells its calls apart from the other replicas' (in a cluster they share one).
    /// </summary>
    public async Task<KwarmInstance> StartKwarmAsAsync(string serviceAccount, params string[] extraArgs)
    {
        var kubeconfig = await Cluster.CreateKubeconfigAsync(
            UserInfo.ServiceAccount("kwarm-system", serviceAccount), Path.Combine(_directory, serviceAccount + ".kubeconfig"), TestContext.Current.CancellationToken);
        return await StartKwarmAsync(kubeconfig, extraArgs);
    }

    private async Task<KwarmInstance> StartKwarmAsync(string kubeconfig, string[] extraArgs)
    {
        var replica = await KwarmInstance.StartAsync(kubeconfig, CertificateDirectory, extraArgs, TimeSpan.FromSeconds(60));
        _replicas.Add(replica);
        if (_replicas.Count == 1)
        {
            RouteWebhookTo(replica);
            await RegisterWebhookAsync();
        }

        return replica;
    }

    /// <summary>Points the webhook Service at <paramref name="replica"/>, like a Service whose only ready endpoint it is.</summary>
    public void RouteWebhookTo(KwarmInstance replica)
    {
        ArgumentNullException.ThrowIfNull(replica);
        Cluster.MapWebhookService(WebhookService, replica.WebhookEndPoint);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
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
            // A kubectl still shutting down may hold its cache open; the temp directory is cleaned by the OS then.
        }
    }

    private async Task RegisterWebhookAsync()
    {
        var path = Path.Combine(RepositoryFiles.Root, "deploy", "webhook", "mutating-webhook-configuration.yaml");
        var configuration = KubernetesYaml.Deserialize<V1MutatingWebhookConfiguration>(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));
        foreach (var webhook in configuration.Webhooks)
        {
            webhook.ClientConfig.CaBundle = System.Text.Encoding.ASCII.GetBytes(CaBundlePem);
        }

        await Client.AdmissionregistrationV1.CreateMutatingWebhookConfigurationAsync(configuration, cancellationToken: TestContext.Current.CancellationToken);
    }
}
