using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary>The minimal cert-manager (<c>--cert-manager</c>): a self-signed CA, a CA issuer, a serving certificate, the CA injector.</summary>
public sealed class CertManagerTests : IAsyncLifetime
{
    private const string Chain = """
        apiVersion: cert-manager.io/v1
        kind: Issuer
        metadata: {name: selfsigned, namespace: operator}
        spec: {selfSigned: {}}
        ---
        apiVersion: cert-manager.io/v1
        kind: Certificate
        metadata: {name: ca, namespace: operator}
        spec: {isCA: true, commonName: operator-ca, secretName: operator-ca, duration: 87600h, issuerRef: {name: selfsigned, kind: Issuer}}
        ---
        apiVersion: cert-manager.io/v1
        kind: Issuer
        metadata: {name: ca, namespace: operator}
        spec: {ca: {secretName: operator-ca}}
        ---
        apiVersion: cert-manager.io/v1
        kind: Certificate
        metadata: {name: webhook, namespace: operator}
        spec: {secretName: webhook-tls, duration: 2160h, dnsNames: [webhook.operator.svc], issuerRef: {name: ca, kind: Issuer}}
        ---
        apiVersion: cert-manager.io/v1
        kind: Certificate
        metadata: {name: orphan, namespace: operator}
        spec: {secretName: orphan-tls, issuerRef: {name: nowhere, kind: Issuer}}
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: MutatingWebhookConfiguration
        metadata:
          name: operator
          annotations: {cert-manager.io/inject-ca-from: operator/webhook}
        webhooks:
        - name: hold.operator.io
          admissionReviewVersions: [v1]
          sideEffects: None
          failurePolicy: Ignore
          clientConfig: {service: {namespace: operator, name: webhook, path: /mutate}}
          rules: [{apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments]}]
        """;

    private TestCluster _cluster = null!;
    private string _directory = "";

    public async ValueTask InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("kwarm-sim-cert-manager-").FullName;
        _cluster = await TestCluster.StartAsync(new SimulatorOptions { CertManager = true, KubeconfigPath = Path.Combine(_directory, "kubeconfig") });
        await _cluster.CreateNamespaceAsync("operator");
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Certificates_are_issued_by_their_issuers_and_the_ca_is_injected_into_the_webhook_configuration()
    {
        var manifest = Path.Combine(_directory, "chain.yaml");
        await File.WriteAllTextAsync(manifest, Chain, TestContext.Current.CancellationToken);
        var kubectl = new Kubectl(_cluster.Cluster.KubeconfigPath);

        var applied = await kubectl.RunAsync("apply", "--server-side", "-f", manifest);

        Assert.True(applied.ExitCode == 0, applied.ToString());
        await Eventually.WaitUntilAsync(() => Secret("webhook-tls") is not null && Injected() is not null, "the serving certificate and its CA in the webhook configuration");
        using var ca = Certificate(Secret("operator-ca")!, "tls.crt");
        using var serving = Certificate(Secret("webhook-tls")!, "tls.crt");
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal("CN=operator-ca", ca.Subject);
        Assert.Equal(ca.Subject, serving.Issuer);
        Assert.Equal("webhook.operator.svc", serving.GetNameInfo(X509NameType.DnsFromAlternativeName, false));
        Assert.InRange(serving.NotAfter.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromHours(2159), TimeSpan.FromHours(2161));
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(serving), "the serving certificate does not chain to the CA");
        }

        Assert.Equal(Secret("webhook-tls")!.Str("data", "ca.crt"), Injected());
        Assert.Equal(Convert.ToBase64String(Encoding.ASCII.GetBytes(ca.ExportCertificatePem())), Injected());
        Assert.Equal("kubernetes.io/tls", Secret("webhook-tls")!.Str("type"));

        var listed = await kubectl.RunAsync("get", "certificates", "-n", "operator");
        Assert.Matches(@"webhook\s+True\s+webhook-tls\s+", listed.Out);
        Assert.Matches(@"orphan\s+False\s+orphan-tls\s+", listed.Out);
        Assert.Equal("Issuer \"nowhere\" not found", _cluster.Get("cert-manager.io", "certificates", "operator", "orphan")!.Objects("status", "conditions").Single().Str("message"));
        Assert.Null(Secret("orphan-tls"));
        Assert.Empty(_cluster.Cluster.ControllerErrors);
    }

    [Theory]
    [InlineData("2160h", 2160 * 60)]
    [InlineData("1h30m", 90)]
    [InlineData("90m", 90)]
    [InlineData("", null)]
    [InlineData("forever", null)]
    public void Durations_are_read_as_go_durations(string text, int? minutes) =>
        Assert.Equal(minutes is { } m ? TimeSpan.FromMinutes(m) : null, CertManager.ParseDuration(text));

    private JsonObject? Secret(string name) => _cluster.Get("", "secrets", "operator", name);

    private string? Injected() =>
        _cluster.Get("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "operator")?.Objects("webhooks").FirstOrDefault()?.Str("clientConfig", "caBundle");

    private static X509Certificate2 Certificate(JsonObject secret, string key) =>
        X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(secret.Str("data", key)!)));
}
