using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace Kwarm.Observability;

public static class KwarmMetricsRegistration
{
    /// <summary>
    /// <see cref="KwarmMetrics"/> as a singleton and an OpenTelemetry MeterProvider exporting its <c>Kwarm</c> meter and
    /// the controller runtime's <c>Kwarm.Runtime</c> meter (<see cref="RuntimeMetrics"/>, registered with the Kubernetes
    /// plumbing) in the Prometheus format (the endpoint is mapped by <c>KwarmEndpoints.MapKwarmEndpoints</c>).
    /// </summary>
    public static IServiceCollection AddKwarmMetrics(this IServiceCollection services)
    {
        // The meter is enabled through the metrics rules rather than MeterProviderBuilder.AddMeter, because only the
        // rules can say "the Kwarm meter of this container" (MeterScope.Local): AddMeter listens to every meter named
        // Kwarm in the process, so another host (a test's) or a stray new Meter("Kwarm") would feed this scrape.
        services.AddMetrics(metrics => metrics
            .EnableMetrics(KwarmMetrics.MeterName, instrumentName: null, listenerName: null, MeterScope.Local)
            .EnableMetrics(RuntimeMetrics.MeterName, instrumentName: null, listenerName: null, MeterScope.Local));
        services.AddSingleton<KwarmMetrics>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddPrometheusExporter(ConfigurePrometheus));
        return services;
    }

    private static void ConfigurePrometheus(PrometheusAspNetCoreOptions options) =>
        // Prometheus scrapes every 15 s or more; a cached answer would only hide a value recorded just before a scrape.
        options.ScrapeResponseCacheDurationMilliseconds = 0;
}
