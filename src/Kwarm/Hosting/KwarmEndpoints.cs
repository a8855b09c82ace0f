using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace Kwarm.Hosting;

public static class KwarmEndpoints
{
    /// <summary>
    /// Maps the probes (<c>/healthz</c>, <c>/readyz</c>) and <c>/metrics</c>, each on its own listener, and hands
    /// <paramref name="mapWebhook"/> a route group served only on the webhook's TLS port. An endpoint mapped
    /// outside these groups is served on no port.
    /// </summary>
    public static WebApplication MapKwarmEndpoints(this WebApplication app, Action<IEndpointRouteBuilder>? mapWebhook = null)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Creating the instruments now makes every metric visible from the first scrape, before any component reports.
        _ = app.Services.GetRequiredService<Observability.KwarmMetrics>();

        var listeners = app.Services.GetRequiredService<KwarmListeners>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Kwarm.Hosting");
        app.UseRouting();
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is { } endpoint &&
                endpoint.Metadata.GetMetadata<KwarmListenerMetadata>()?.Listener != listeners.ListenerOf(context.Connection.LocalPort))
            {
                logger.RefusedOnPort(context.Request.Path, context.Connection.LocalPort);
                context.SetEndpoint(null);
            }

            return next(context);
        });

        var probes = app.MapGroup("").OnListener(KwarmListener.Probes);
        probes.MapGet("/healthz", () => Results.Text("ok\n"));
        probes.MapGet("/readyz", ([FromServices] ReadinessGates gates, [FromServices] IServingCertificateSource certificates) =>
        {
            var pending = PendingGates(gates, certificates);
            return pending.Count == 0
                ? Results.Text("ok\n")
                : Results.Text(string.Create(CultureInfo.InvariantCulture, $"not ready: {string.Join(", ", pending)}\n"), statusCode: StatusCodes.Status503ServiceUnavailable);
        });

        app.MapGroup("").OnListener(KwarmListener.Metrics).MapPrometheusScrapingEndpoint();

        mapWebhook?.Invoke(app.MapGroup("").OnListener(KwarmListener.Webhook));
        return app;
    }

    /// <summary>
    /// The closed gates, plus the certificate gate whenever the source has no certificate: the host asks the source
    /// itself, so a webhook that cannot complete a handshake is never reported ready, whoever manages the gate.
    /// </summary>
    private static List<string> PendingGates(ReadinessGates gates, IServingCertificateSource certificates)
    {
        var pending = gates.Pending.ToList();
        if (certificates.Current is null && !pending.Contains(ReadinessGates.CertificateLoaded, StringComparer.Ordinal))
        {
            pending.Add(ReadinessGates.CertificateLoaded);
            pending.Sort(StringComparer.Ordinal);
        }

        return pending;
    }
}
