using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kwarm.Testing.RealApiServer;

/// <summary>
/// A throwaway certificate authority for one control plane: the API server's serving certificate (SAN
/// <c>IP:127.0.0.1</c>), client certificates for each identity that talks to it (CN is the user, O the group, as the
/// API server's x509 authenticator reads them) and the service-account signing key pair. Everything is written as PEM
/// into the control plane's own folder and lives exactly as long as it.
/// </summary>
public sealed class ControlPlanePki : IDisposable
{
    private readonly X509Certificate2 _authority;

    private ControlPlanePki(string directory, X509Certificate2 authority)
    {
        Directory = directory;
        _authority = authority;
        CaFile = Write("ca.crt", authority.ExportCertificatePem());
    }

    public string Directory { get; }

    public string CaFile { get; }

    public string CaPem => File.ReadAllText(CaFile);

    public static ControlPlanePki Create(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kwarm-envtest-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        return new ControlPlanePki(directory, authority);
    }

    /// <summary>Writes <c>NAME.crt</c> and <c>NAME.key</c> for the API server's TLS endpoint on loopback.</summary>
    public (string Certificate, string Key) Serving(string name)
    {
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        return Issue(name, "CN=kube-apiserver", names.Build(), new Oid("1.3.6.1.5.5.7.3.1"));
    }

    /// <summary>Writes a client certificate for <paramref name="user"/> in <paramref name="groups"/>.</summary>
    public (string Certificate, string Key) Client(string name, string user, params string[] groups)
    {
        var subject = "CN=" + user + string.Concat(groups.Select(group => ", O=" + group));
        return Issue(name, subject, null, new Oid("1.3.6.1.5.5.7.3.2"));
    }

    /// <summary>The RSA key pair the API server verifies and signs service-account tokens with.</summary>
    public (string PublicKey, string PrivateKey) ServiceAccountKeys()
    {
        using var key = RSA.Create(2048);
        return (Write("sa.pub", key.ExportSubjectPublicKeyInfoPem()), Write("sa.key", key.ExportPkcs8PrivateKeyPem()));
    }

    private (string Certificate, string Key) Issue(string name, string subject, X509Extension? alternativeNames, Oid usage)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (alternativeNames is not null)
        {
            request.CertificateExtensions.Add(alternativeNames);
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var certificate = request.Create(_authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return (Write(name + ".crt", certificate.ExportCertificatePem()), Write(name + ".key", key.ExportPkcs8PrivateKeyPem()));
    }

    private string Write(string fileName, string pem)
    {
        var path = Path.Combine(Directory, fileName);
        File.WriteAllText(path, pem + "\n");
        return path;
    }

    public void Dispose() => _authority.Dispose();
}
