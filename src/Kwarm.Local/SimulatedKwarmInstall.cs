using k8s;
using k8s.Models;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Local;

/// <summary>
/// Installs Kwarm into a simulated cluster the way a platform team installs it into a real one, from the repository's
/// own manifests (copied next to this assembly under <c>manifests/</c>): the CRDs, the namespace <c>kwarm-system</c>,
/// a serving certificate whose CA becomes the webhook's caBundle (cert-manager's injector does that in a cluster),
/// Kwarm as its own process behind the webhook Service, and the webhook configuration. The guided run and the
/// benchmarks install through this one path, so what they show is what the manifests do.
/// </summary>
public static class SimulatedKwarmInstall
{
    public const string Namespace = "kwarm-system";
    public const string WebhookService = "kwarm-webhook";

    /// <summary>Installs and starts Kwarm (<paramref name="command"/>), connected with <paramref name="kwarmKubeconfig"/>; the caller owns the process.</summary>
    public static async Task<KwarmProcess> InstallAsync(
        SimulatedCluster cluster, IKubernetes client, KwarmCommand command, string workDirectory, string kwarmKubeconfig, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(client);
        foreach (var crd in new[] { "kwarm.io_prepullpolicies.yaml", "kwarm.io_prepullimages.yaml" })
        {
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Manifest<V1CustomResourceDefinition>(crd), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var certificates = Path.Combine(workDirectory, "serving-certs");
        var caBundle = WebhookServingCertificate.Write(certificates, $"{WebhookService}.{Namespace}.svc", TimeProvider.System);
        var kwarm = await KwarmProcess.StartAsync(command, kwarmKubeconfig, certificates, Path.Combine(workDirectory, "kwarm.log"), cancellationToken).ConfigureAwait(false);
        try
        {
            cluster.MapWebhookService($"{Namespace}/{WebhookService}", kwarm.WebhookEndPoint);
            var webhook = Manifest<V1MutatingWebhookConfiguration>("mutating-webhook-configuration.yaml");
            foreach (var entry in webhook.Webhooks)
            {
                entry.ClientConfig.CaBundle = System.Text.Encoding.ASCII.GetBytes(caBundle);
            }

            await client.AdmissionregistrationV1.CreateMutatingWebhookConfigurationAsync(webhook, cancellationToken: cancellationToken).ConfigureAwait(false);
            return kwarm;
        }
        catch
        {
            await kwarm.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>One of the manifests copied from <c>deploy/</c> at build time.</summary>
    public static T Manifest<T>(string fileName) =>
        KubernetesYaml.Deserialize<T>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "manifests", fileName)));
}
