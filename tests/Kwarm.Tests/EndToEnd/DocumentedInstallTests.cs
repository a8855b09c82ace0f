using Kwarm.Admission;
using Kwarm.Simulator.Hosting;
using Kwarm.Tests.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.EndToEnd;

/// <summary>
/// docs/install.md, "On the cluster simulator": the README's kubectl install, as written, on the standalone simulator
/// with its minimal cert-manager, then Kwarm run on this machine with the certificate cert-manager issued, reached
/// through the webhook Service mapped to it, holding an image change.
/// </summary>
[Collection(OneSimulatedClusterAtATime.Name)]
public sealed class DocumentedInstallTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Kustomize_install_applies_and_a_local_kwarm_holds_with_the_certificate_cert_manager_issued()
    {
        var directory = Directory.CreateTempSubdirectory("kwarm-install-");
        try
        {
            await using var cluster = await SimulatedCluster.StartAsync(
                new SimulatorOptions { Nodes = 3, TimeFactor = 0.05, CertManager = true, KubeconfigPath = Path.Combine(directory.FullName, "sim.kubeconfig") },
                Cancellation);
            var kubectl = new Kubectl(cluster.KubeconfigPath);

            var applied = await kubectl.RunAsync("apply", "--server-side", "-k", Path.Combine(RepositoryFiles.Root, "deploy", "kustomize", "default"));
            Assert.True(applied.ExitCode == 0, applied.ToString());
            Assert.Contains("certificate.cert-manager.io/kwarm-webhook serverside-applied", applied.Out, StringComparison.Ordinal);
            Assert.Contains("poddisruptionbudget.policy/kwarm serverside-applied", applied.Out, StringComparison.Ordinal);
            await kubectl.SucceedAsync("-n", "kwarm-system", "rollout", "status", "deployment/kwarm", "--timeout=60s");

            // cert-manager's chain: the webhook certificate in its Secret, its CA injected into the webhook configuration.
            var certificates = Directory.CreateDirectory(Path.Combine(directory.FullName, "certs")).FullName;
            await EventuallyAsync(async () => (await kubectl.RunAsync("-n", "kwarm-system", "get", "secret", "kwarm-webhook-tls")).ExitCode == 0);
            foreach (var file in new[] { "tls.crt", "tls.key", "ca.crt" })
            {
                var data = await kubectl.SucceedAsync("-n", "kwarm-system", "get", "secret", "kwarm-webhook-tls", "-o", $"jsonpath={{.data.{file.Replace(".", "\\.", StringComparison.Ordinal)}}}");
                await File.WriteAllBytesAsync(Path.Combine(certificates, file), Convert.FromBase64String(data), Cancellation);
            }

            var caBundle = Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(certificates, "ca.crt"), Cancellation));
            await EventuallyAsync(async () =>
                await kubectl.SucceedAsync("get", "mutatingwebhookconfiguration", "kwarm", "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}") == caBundle);
            Assert.Equal("True", await kubectl.SucceedAsync("-n", "kwarm-system", "get", "certificate", "kwarm-webhook", "-o", "jsonpath={.status.conditions[0].status}"));
            using (var leaf = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(certificates, "tls.crt"), Cancellation)))
            {
                Assert.Equal("CN=kwarm-ca", leaf.Issuer);
                Assert.Contains("kwarm-webhook.kwarm-system.svc", leaf.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsFromAlternativeName, false), StringComparison.Ordinal);
            }

            // Kwarm on this machine with that certificate; the webhook Service routed to it, as --webhook-service-endpoint does.
            await using var kwarm = await KwarmInstance.StartAsync(cluster.KubeconfigPath, certificates, ["--leader-elect"], TimeSpan.FromSeconds(60));
            cluster.MapWebhookService("kwarm-system/kwarm-webhook", kwarm.WebhookEndPoint);
            await kubectl.SucceedAsync("apply", "-f", RepositoryFiles.Sample("prepullpolicy-basic.yaml"), "-f", RepositoryFiles.Sample("deployment-example.yaml"));
            await kubectl.SucceedAsync("rollout", "status", "deployment/web", "--timeout=60s");
            await EventuallyAsync(async () =>
                (await kubectl.SucceedAsync("patch", "deployment", "web", "--dry-run=server", "-o", "jsonpath={.spec.paused}", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"docker.io/library/nginx:1.27.1"}]}}}}""")) == "true");

            var held = await kubectl.RunAsync("set", "image", "deployment/web", "web=docker.io/library/nginx:1.27.1");

            Assert.True(held.ExitCode == 0, held.ToString());
            Assert.Contains("Warning: kwarm: rollout held", held.Error, StringComparison.Ordinal);
            await kubectl.SucceedAsync("rollout", "status", "deployment/web", "--timeout=120s");

            // Held, pulled and released by Kwarm (the simulated pulls take milliseconds here, so the hold itself is brief).
            Assert.Equal(HoldId.For(["docker.io/library/nginx:1.27.1"]), await kubectl.SucceedAsync("get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.kwarm\\.io/released}"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(100, limit.Token);
        }
    }
}
