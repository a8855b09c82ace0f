using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kwarm.Hosting;

namespace Kwarm.Tests.Hosting;

/// <summary>A certificate source holding a self-signed certificate made here, replaceable to stand for a rotation.</summary>
internal sealed class FixedServingCertificate : IServingCertificateSource, IDisposable
{
    private X509Certificate2? _current;

    public FixedServingCertificate(string subject) => _current = Create(subject);

    public X509Certificate2? Current => Volatile.Read(ref _current);

    public void Replace(X509Certificate2? certificate) => Interlocked.Exchange(ref _current, certificate)?.Dispose();

    public void Dispose() => _current?.Dispose();

    public static X509Certificate2 Create(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName(subject);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));
    }
}
