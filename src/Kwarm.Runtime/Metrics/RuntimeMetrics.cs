using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Kwarm.Runtime;

/// <summary>
/// The metrics client-go and controller-runtime users expect, on the <see cref="MeterName"/> meter: work queue depth,
/// adds, queue latency, work duration and retries (label <c>name</c>, the controller); reconciles by result, errors and
/// duration (label <c>controller</c>); the leader gauge (label <c>name</c>, the Lease); informer list/watch restarts
/// (labels <c>resource</c>, <c>reason</c>). Instrument names start with the prefix the application gives (Kwarm:
/// <c>kwarm</c>). Counters and gauges are observable, so every known label set is exported, as zero, from the first scrape.
/// </summary>
public sealed class RuntimeMetrics
{
    public const string MeterName = "Kwarm.Runtime";

    /// <summary>Values of the <c>result</c> label of the reconcile counter.</summary>
    public static class ReconcileResults
    {
        public const string Success = "success";

        /// <summary>The reconcile threw; the key is retried with backoff.</summary>
        public const string Error = "error";

        /// <summary>
        /// The reconcile asked to look again later (<see cref="ReconcileResult.After"/>), or lost a write race
        /// (<see cref="ApiConflictException"/>): routine under concurrency, retried after a re-read, not an error.
        /// </summary>
        public const string Requeue = "requeue";
    }

    /// <summary>Values of the <c>reason</c> label of the informer restart counter.</summary>
    public static class RestartReasons
    {
        /// <summary>The resourceVersion expired (410): a full relist.</summary>
        public const string Expired = "expired";

        /// <summary>A LIST or WATCH failed (connection, 5xx, error event): retried after backoff.</summary>
        public const string Error = "error";

        /// <summary>A watch delivered nothing for the silence limit and was restarted.</summary>
        public const string Silent = "silent";

        /// <summary>The server ended a watch (its timeout): resumed at once.</summary>
        public const string Closed = "closed";
    }

    private static readonly double[] DurationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<string, long> _depth = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _adds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _retries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Controller, string Result), long> _reconciles = new();
    private readonly ConcurrentDictionary<string, long> _reconcileErrors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _leading = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Resource, string Reason), long> _restarts = new();
    private readonly Histogram<double> _queueDuration;
    private readonly Histogram<double> _workDuration;
    private readonly Histogram<double> _reconcileTime;

    /// <param name="prefix">The first word of every instrument name, e.g. <c>kwarm</c> for <c>kwarm_workqueue_depth</c>.</param>
    public RuntimeMetrics(IMeterFactory meterFactory, string prefix)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var meter = meterFactory.Create(MeterName);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };

        meter.CreateObservableGauge($"{prefix}_workqueue_depth", () => Observe(_depth, "name"), description: "Keys waiting in a controller's work queue.");
        meter.CreateObservableCounter($"{prefix}_workqueue_adds_total", () => Observe(_adds, "name"), description: "Keys added to a controller's work queue.");
        _queueDuration = meter.CreateHistogram<double>($"{prefix}_workqueue_queue_duration_seconds", description: "Time a key waits in the queue before a worker takes it.", advice: advice);
        _workDuration = meter.CreateHistogram<double>($"{prefix}_workqueue_work_duration_seconds", description: "Time a worker holds a key.", advice: advice);
        meter.CreateObservableCounter($"{prefix}_workqueue_retries_total", () => Observe(_retries, "name"), description: "Rate-limited re-adds of a failed key.");

        meter.CreateObservableCounter($"{prefix}_controller_reconcile_total", ObserveReconciles, description: "Reconciles by controller and result (success, error, requeue).");
        meter.CreateObservableCounter($"{prefix}_controller_reconcile_errors_total", () => Observe(_reconcileErrors, "controller"), description: "Reconciles that threw.");
        _reconcileTime = meter.CreateHistogram<double>($"{prefix}_controller_reconcile_time_seconds", description: "Time of one reconcile.", advice: advice);

        meter.CreateObservableGauge($"{prefix}_leader_election_master_status", () => Observe(_leading, "name"), description: "1 while this replica leads (holds the Lease), else 0.");
        meter.CreateObservableCounter($"{prefix}_informer_restarts_total", ObserveRestarts, description: "Informer list/watch restarts by resource and reason.");
    }

    /// <summary>Makes a queue's series visible (at zero) before anything happens to it.</summary>
    public void AddQueue(string name)
    {
        _depth.TryAdd(name, 0);
        _adds.TryAdd(name, 0);
        _retries.TryAdd(name, 0);
    }

    public void SetQueueDepth(string name, int depth) => _depth[name] = depth;

    public void QueueAdded(string name) => _adds.AddOrUpdate(name, 1, static (_, count) => count + 1);

    public void QueueRetried(string name) => _retries.AddOrUpdate(name, 1, static (_, count) => count + 1);

    public void QueueWaited(string name, TimeSpan waited) => _queueDuration.Record(waited.TotalSeconds, new KeyValuePair<string, object?>("name", name));

    public void QueueWorked(string name, TimeSpan worked) => _workDuration.Record(worked.TotalSeconds, new KeyValuePair<string, object?>("name", name));

    /// <summary>Makes a controller's series visible (at zero) before its first reconcile.</summary>
    public void AddController(string controller)
    {
        foreach (var result in (string[])[ReconcileResults.Success, ReconcileResults.Error, ReconcileResults.Requeue])
        {
            _reconciles.TryAdd((controller, result), 0);
        }

        _reconcileErrors.TryAdd(controller, 0);
    }

    public void Reconciled(string controller, string result, TimeSpan duration)
    {
        _reconciles.AddOrUpdate((controller, result), 1, static (_, count) => count + 1);
        if (result == ReconcileResults.Error)
        {
            _reconcileErrors.AddOrUpdate(controller, 1, static (_, count) => count + 1);
        }

        _reconcileTime.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("controller", controller));
    }

    public void SetLeading(string name, bool leading) => _leading[name] = leading ? 1 : 0;

    /// <summary>Makes an informer's series visible (at zero) before its first restart.</summary>
    public void AddInformer(string resource)
    {
        foreach (var reason in (string[])[RestartReasons.Expired, RestartReasons.Error, RestartReasons.Silent, RestartReasons.Closed])
        {
            _restarts.TryAdd((resource, reason), 0);
        }
    }

    public void InformerRestarted(string resource, string reason) => _restarts.AddOrUpdate((resource, reason), 1, static (_, count) => count + 1);

    private static IEnumerable<Measurement<long>> Observe(ConcurrentDictionary<string, long> values, string label) =>
        values.Select(entry => new Measurement<long>(entry.Value, new KeyValuePair<string, object?>(label, entry.Key)));

    private IEnumerable<Measurement<long>> ObserveReconciles() =>
        _reconciles.Select(entry => new Measurement<long>(entry.Value,
            new KeyValuePair<string, object?>("controller", entry.Key.Controller), new KeyValuePair<string, object?>("result", entry.Key.Result)));

    private IEnumerable<Measurement<long>> ObserveRestarts() =>
        _restarts.Select(entry => new Measurement<long>(entry.Value,
            new KeyValuePair<string, object?>("resource", entry.Key.Resource), new KeyValuePair<string, object?>("reason", entry.Key.Reason)));
}
