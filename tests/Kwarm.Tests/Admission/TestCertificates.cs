using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kwarm.Tests.Admission;

/// <summary>
/// Self-signed serving certificates made in the test, and the directory layout the kubelet and cert-manager
/// produce: <c>tls.crt -> ..data/tls.crt</c>, <c>..data -> ..&lt;timestamp&gt;</c>, swapped atomically on rotation.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private int _generation;

    public TestCertificates() => Directory = System.IO.Directory.CreateTempSubdirectory("kwarm-certs-").FullName;

    public string Directory { get; }

    public static (string CertificatePem, string KeyPem, string Thumbprint) Create(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), certificate.Thumbprint);
    }

    /// <summary>Publishes a pair the way the kubelet's atomic writer does.</summary>
    public void PublishAtomically(string certificatePem, string keyPem)
    {
        var generation = Path.Combine(Directory, $"..2026_11_26_{Interlocked.Increment(ref _generation):D4}");
        System.IO.Directory.CreateDirectory(generation);
        File.WriteAllText(Path.Combine(generation, "tls.crt"), certificatePem);
        File.WriteAllText(Path.Combine(generation, "tls.key"), keyPem);

        var staging = Path.Combine(Directory, "..data_tmp");
        File.CreateSymbolicLink(staging, Path.GetFileName(generation));
        // rename(2) of the new link over the old one: readers see either the old or the new pair, never a mix.
        // File.Move refuses a link to a directory, so GNU mv -T (a plain rename) does it, as the kubelet would.
        using (var rename = Process.Start("mv", ["-T", "-f", staging, Path.Combine(Directory, "..data")]))
        {
            rename.WaitForExit();
            if (rename.ExitCode != 0)
            {
                throw new IOException($"mv -T exited with {rename.ExitCode}");
            }
        }

        foreach (var file in new[] { "tls.crt", "tls.key" })
        {
            var link = Path.Combine(Directory, file);
            if (!Path.Exists(link) && new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine("..data", file));
            }
        }
    }

    public string PublishAtomically(string commonName)
    {
        var (certificate, key, thumbprint) = Create(commonName);
        PublishAtomically(certificate, key);
        return thumbprint;
    }

    /// <summary>Overwrites plain files in place (a hand-made or non-atomic writer).</summary>
    public string WritePlain(string commonName)
    {
        var (certificate, key, thumbprint) = Create(commonName);
        File.WriteAllText(Path.Combine(Directory, "tls.crt"), certificate);
        File.WriteAllText(Path.Combine(Directory, "tls.key"), key);
        return thumbprint;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
