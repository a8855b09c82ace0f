using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Kwarm.Observability;

public static class KwarmMetricsRegistration
{
    /// <summary>
    /// <see cref="KwarmMetrics"/> as a singleton and an OpenTelemetry MeterProvider exporting its <c>Kwarm</c> meter
    /// in the Prometheus format (the endpoint is mapped by <see cref="Hosting.KwarmEndpoints.MapKwarmEndpoints"/>).
    /// </summary>
    public static IServiceCollection AddKwarmMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<KwarmMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(KwarmMetrics.MeterName)
            .AddPrometheusExporter(ConfigurePrometheus));
        return services;
    }

    private static void ConfigurePrometheus(PrometheusAspNetCoreOptions options) =>
        // Prometheus scrapes every 15 s or more; a cached answer would only hide a value recorded just before a scrape.
        options.ScrapeResponseCacheDurationMilliseconds = 0;
}
