using System.Security.Cryptography.X509Certificates;

namespace Kwarm.Hosting;

/// <summary>
/// The webhook listener's certificate, asked for on every TLS handshake so that a rotated
/// certificate is served without a restart. Null while no valid certificate has been loaded.
/// </summary>
public interface IServingCertificateSource
{
    X509Certificate2? Current { get; }
}
