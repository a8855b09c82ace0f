using System.Diagnostics.Metrics;
using Kwarm.Holds;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The instruments <see cref="KwarmMetrics"/> and the controller runtime's <see cref="RuntimeMetrics"/> really create,
/// read from a listener rather than from a list here.
/// </summary>
internal static class KwarmInstruments
{
    /// <summary>Metric name to kind: <c>counter</c>, <c>gauge</c> or <c>histogram</c>.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = Discover();

    /// <summary>The controller runtime's metrics (work queues, reconciles, leader election, informers) among <see cref="All"/>.</summary>
    public static IReadOnlySet<string> Runtime { get; } = All.Keys.Where(name =>
        name.StartsWith("kwarm_workqueue_", StringComparison.Ordinal) || name.StartsWith("kwarm_controller_", StringComparison.Ordinal) ||
        name.StartsWith("kwarm_leader_election_", StringComparison.Ordinal) || name.StartsWith("kwarm_informer_", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);

    private static Dictionary<string, string> Discover()
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name is KwarmMetrics.MeterName or RuntimeMetrics.MeterName)
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
        _ = new RuntimeMetrics(services.GetRequiredService<IMeterFactory>(), Kwarm.Kubernetes.KubernetesServiceCollectionExtensions.MetricPrefix);
        return found.Count > 0 ? found : throw new InvalidOperationException("KwarmMetrics published no instrument");
    }

    /// <summary>
    /// Metric name to the label names its measurements carry, seen by a listener while every reporting method of
    /// <see cref="KwarmMetrics"/> is called once (an instrument that reports nothing yet maps to no label).
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Labels { get; } = DiscoverLabels();

    private static Dictionary<string, IReadOnlySet<string>> DiscoverLabels()
    {
        var found = All.Keys.ToDictionary(name => name, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, subscriber) =>
            {
                if (instrument.Meter.Name is KwarmMetrics.MeterName or RuntimeMetrics.MeterName)
                {
                    subscriber.EnableMeasurementEvents(instrument, found);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(RecordLabels);
        listener.SetMeasurementEventCallback<double>(RecordLabels);
        listener.Start();

        var metrics = new KwarmMetrics(services.GetRequiredService<IMeterFactory>());
        metrics.WebhookRequest(KwarmMetrics.Decisions.Hold, TimeSpan.FromMilliseconds(1));
        metrics.PullFinished(KwarmMetrics.PullResults.Pulled, TimeSpan.FromSeconds(1));
        metrics.HoldReleased(nameof(ReleaseReason.Warm), TimeSpan.FromSeconds(1));
        metrics.SetActivePulls(1);
        metrics.SetHoldsActive(1);
        metrics.SetPrePullImagesByPhase(nameof(PrePullImagePhase.Pending), 1);
        metrics.SetWatchedDeployments("default", 1);
        metrics.SetWatchedWorkloads("default", WorkloadKind.DaemonSet, 1);
        metrics.NodeWarmupEnded(KwarmMetrics.WarmupResults.Warm, TimeSpan.FromSeconds(1));
        metrics.SetWarmingNodes(1);
        var runtime = new RuntimeMetrics(services.GetRequiredService<IMeterFactory>(), Kwarm.Kubernetes.KubernetesServiceCollectionExtensions.MetricPrefix);
        runtime.AddQueue("holds");
        runtime.QueueAdded("holds");
        runtime.QueueRetried("holds");
        runtime.QueueWaited("holds", TimeSpan.FromMilliseconds(1));
        runtime.QueueWorked("holds", TimeSpan.FromMilliseconds(1));
        runtime.AddController("holds");
        runtime.Reconciled("holds", RuntimeMetrics.ReconcileResults.Error, TimeSpan.FromMilliseconds(1));
        runtime.SetLeading("kwarm-leader", leading: true);
        runtime.AddInformer("deployments");
        runtime.InformerRestarted("deployments", RuntimeMetrics.RestartReasons.Expired);
        listener.RecordObservableInstruments();

        return found.ToDictionary(pair => pair.Key, pair => (IReadOnlySet<string>)pair.Value, StringComparer.Ordinal);
    }

    private static void RecordLabels<T>(Instrument instrument, T measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var found = (Dictionary<string, SortedSet<string>>)state!;
        lock (found)
        {
            foreach (var tag in tags)
            {
                found[instrument.Name].Add(tag.Key);
            }
        }
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
