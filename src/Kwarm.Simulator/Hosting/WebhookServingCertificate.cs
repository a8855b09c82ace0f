using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kwarm.Simulator.Hosting;

/// <summary>
/// A serving certificate for a webhook Service, as cert-manager would provide in a cluster: <c>tls.crt</c> and
/// <c>tls.key</c> (PEM) in a directory the webhook reads, and the PEM to put in the configuration's caBundle. It is
/// self-signed (its own trust anchor), valid for the Service's DNS name, localhost and 127.0.0.1.
/// </summary>
public static class WebhookServingCertificate
{
    /// <returns>The caBundle PEM.</returns>
    public static string Write(string directory, string serviceDnsName, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(serviceDnsName);
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + serviceDnsName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(serviceDnsName);
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = time.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));
        var pem = certificate.ExportCertificatePem();
        File.WriteAllText(Path.Combine(directory, "tls.crt"), pem);
        File.WriteAllText(Path.Combine(directory, "tls.key"), key.ExportPkcs8PrivateKeyPem());
        return pem;
    }
}
