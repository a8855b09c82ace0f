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

        app.MapGroup("").OnListener(KwarmListener.Probes).MapKwarmProbes();

        app.MapGroup("").OnListener(KwarmListener.Metrics).MapPrometheusScrapingEndpoint();

        mapWebhook?.Invoke(app.MapGroup("").OnListener(KwarmListener.Webhook));
        return app;
    }
}
