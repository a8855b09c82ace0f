using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kwarm.Hosting;

/// <summary>
/// Ready once the webhook has a certificate to present: the host asks the source itself, so a webhook that cannot
/// complete a TLS handshake is never reported ready, whichever component manages the certificate.
/// </summary>
public sealed class ServingCertificateHealthCheck : IHealthCheck
{
    private readonly IServingCertificateSource _certificates;

    public ServingCertificateHealthCheck(IServingCertificateSource certificates)
    {
        _certificates = certificates ?? throw new ArgumentNullException(nameof(certificates));
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_certificates.Current is { } certificate
            ? HealthCheckResult.Healthy($"serving {certificate.Subject}")
            : HealthCheckResult.Unhealthy("no serving certificate loaded"));
}
