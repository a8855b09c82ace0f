using System.Diagnostics.Metrics;
using Kwarm.Observability;
using Microsoft.Extensions.DependencyInjection;

namespace Kwarm.Tests.Deploy;

/// <summary>The instruments <see cref="KwarmMetrics"/> really creates, read from a listener rather than from a list here.</summary>
internal static class KwarmInstruments
{
    /// <summary>Metric name to kind: <c>counter</c>, <c>gauge</c> or <c>histogram</c>.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = Discover();

    private static Dictionary<string, string> Discover()
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == KwarmMetrics.MeterName)
                {
                    lock (found)
                    {
                        found[instrument.Name] = Kind(instrument);
                    }
                }
            },
        };
        listener.Start();
        _ = new KwarmMetrics(services.GetRequiredService<IMeterFactory>());
        return found.Count > 0 ? found : throw new InvalidOperationException("KwarmMetrics published no instrument");
    }

    private static string Kind(Instrument instrument)
    {
        var type = instrument.GetType();
        var name = type.IsGenericType ? type.GetGenericTypeDefinition().Name : type.Name;
        return name switch
        {
            "ObservableCounter`1" or "Counter`1" => "counter",
            "ObservableGauge`1" or "Gauge`1" or "ObservableUpDownCounter`1" or "UpDownCounter`1" => "gauge",
            "Histogram`1" => "histogram",
            _ => throw new InvalidOperationException($"unexpected instrument type {name} for {instrument.Name}"),
        };
    }

    /// <summary>The metric a series name belongs to (a histogram's <c>_bucket</c>, <c>_sum</c> and <c>_count</c> included), or null.</summary>
    public static string? MetricOf(string series)
    {
        if (All.ContainsKey(series))
        {
            return series;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (series.EndsWith(suffix, StringComparison.Ordinal) && All.TryGetValue(series[..^suffix.Length], out var kind) && kind == "histogram")
            {
                return series[..^suffix.Length];
            }
        }

        return null;
    }
}
