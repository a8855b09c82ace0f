using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kwarm.Tests.Noop;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// <c>certs/make-dev-certs.sh</c>, the documented way to run Kwarm without cert-manager: the certificate it writes
/// must be one the API server accepts for the webhook Service, signed by the CA that goes into <c>caBundle</c>.
/// </summary>
[Trait("Lane", "Packaging")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DevCertificateScriptTests : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    private readonly DirectoryInfo _out = Directory.CreateTempSubdirectory("kwarm-dev-certs-");

    public void Dispose() => _out.Delete(recursive: true);

    [Fact]
    public async Task Serving_certificate_names_the_webhook_service_and_chains_to_the_ca()
    {
        var run = await RunScriptAsync("kwarm.example.test");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var ca = X509CertificateLoader.LoadCertificateFromFile(OutFile("ca.crt"));
        using var serving = X509Certificate2.CreateFromPemFile(OutFile("tls.crt"), OutFile("tls.key"));
        Assert.True(serving.HasPrivateKey);
        AssertChainsForServerAuthentication(serving, ca);

        var names = serving.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        var dnsNames = names.EnumerateDnsNames().ToList();
        // The names cert-manager's Certificate carries (certs/cert-manager.yaml), so both paths serve the same Service.
        var certificate = Manifests.Parse(File.ReadAllText(Manifests.InRepository("certs", "cert-manager.yaml"))).Single("Certificate", "kwarm-webhook");
        foreach (var dnsName in certificate["spec"]!["dnsNames"]!.AsArray().Select(Manifests.Str))
        {
            Assert.Contains(dnsName, dnsNames);
        }

        Assert.Contains("localhost", dnsNames);
        Assert.Contains("kwarm.example.test", dnsNames);
        Assert.Contains(IPAddress.Loopback, names.EnumerateIPAddresses());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(OutFile("tls.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(OutFile("ca.key")));
    }

    [Fact]
    public async Task Running_again_renews_the_serving_certificate_under_the_same_ca()
    {
        Assert.Equal(0, (await RunScriptAsync()).ExitCode);
        var firstCa = File.ReadAllBytes(OutFile("ca.crt"));
        var firstServing = File.ReadAllBytes(OutFile("tls.crt"));

        var again = await RunScriptAsync();

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(firstCa, File.ReadAllBytes(OutFile("ca.crt")));
        Assert.NotEqual(firstServing, File.ReadAllBytes(OutFile("tls.crt")));
        using var ca = X509CertificateLoader.LoadCertificateFromFile(OutFile("ca.crt"));
        using var serving = X509Certificate2.CreateFromPemFile(OutFile("tls.crt"), OutFile("tls.key"));
        AssertChainsForServerAuthentication(serving, ca);
    }

    [Fact]
    public void Chain_check_refuses_a_certificate_from_another_ca()
    {
        using var otherKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=other-ca", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var otherCa = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var servingKey = RSA.Create(2048);
        var servingRequest = new CertificateRequest("CN=serving", servingKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        servingRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthentication)], false));
        using var serving = servingRequest.Create(otherCa, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), [1, 2, 3, 4]);
        using var unrelatedKey = RSA.Create(2048);
        using var unrelatedCa = new CertificateRequest("CN=unrelated-ca", unrelatedKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        Assert.ThrowsAny<Exception>(() => AssertChainsForServerAuthentication(serving, unrelatedCa));
        AssertChainsForServerAuthentication(serving, otherCa);
    }

    private static void AssertChainsForServerAuthentication(X509Certificate2 serving, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthentication));

        var built = chain.Build(serving);
        Assert.True(built, string.Join("; ", chain.ChainStatus.Select(status => $"{status.Status}: {status.StatusInformation}")));
    }

    private string OutFile(string name) => Path.Combine(_out.FullName, name);

    private async Task<ProcessRun> RunScriptAsync(params string[] extraDnsNames)
    {
        var bash = ProcessRun.FindOnPath("bash") ?? throw new InvalidOperationException("bash is needed to run certs/make-dev-certs.sh");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        return await ProcessRun.StartAsync(bash, [Manifests.InRepository("certs", "make-dev-certs.sh"), _out.FullName, .. extraDnsNames], Manifests.Root, timeout.Token);
    }
}
