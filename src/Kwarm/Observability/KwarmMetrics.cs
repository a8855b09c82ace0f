using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Kwarm.Resources;

namespace Kwarm.Observability;

/// <summary>
/// Every instrument of DESIGN §6 on the <c>Kwarm</c> meter. Gauges and counters are observable: gauges read the
/// last value the controllers reported and counters their running totals, so both are exported (as zero for every
/// known label) from the first scrape, whenever the exporter started listening.
/// Labels never carry image or node names: their cardinality is unbounded. The <c>kind</c> label (issue #16) is one of
/// <c>Deployment</c>, <c>StatefulSet</c>, <c>DaemonSet</c>; a webhook request whose kind is none of them (or that could not
/// be read) counts under the kind its endpoint serves. <c>kwarm_webhook_requests_total</c> also has <c>kind="Node"</c>,
/// for the reviews of <c>/mutate/nodes</c> (issue #17).
/// </summary>
public sealed class KwarmMetrics
{
    public const string MeterName = "Kwarm";

    /// <summary>Values of the <c>decision</c> label of <c>kwarm_webhook_requests_total</c>.</summary>
    public static class Decisions
    {
        public const string Hold = "hold";
        public const string Allow = "allow";
        public const string Invalid = "invalid";

        /// <summary>Answered HTTP 429: the webhook's memory budget for request bodies stayed taken (AdmissionBodyBudget).</summary>
        public const string Overloaded = "overloaded";
    }

    /// <summary>Values of the <c>result</c> label of <c>kwarm_pulls_total</c>.</summary>
    public static class PullResults
    {
        public const string Pulled = "pulled";
        public const string Failed = "failed";
        public const string TimedOut = "timeout";
    }

    /// <summary>Values of the <c>result</c> label of <c>kwarm_node_warmup_duration_seconds</c>.</summary>
    public static class WarmupResults
    {
        public const string Warm = "warm";
        public const string Failed = "failed";
        public const string Timeout = "timeout";
        public const string NotNeeded = "not_needed";
    }

    private readonly Histogram<double> _webhookDuration;
    private readonly Histogram<double> _nodeWarmupDuration;
    private long _warmingNodes;
    private readonly Histogram<double> _pullDuration;
    private readonly Histogram<double> _holdDuration;

    private long _activePulls;
    private readonly ConcurrentDictionary<WorkloadKind, long> _holdsActive = new();
    private readonly ConcurrentDictionary<string, long> _prePullImagesByPhase = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _watchedDeployments = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Value, WorkloadKind Kind), long> _watchedWorkloads = new();
    private readonly ConcurrentDictionary<(string Value, WorkloadKind Kind), long> _webhookRequests = new();
    private readonly ConcurrentDictionary<string, long> _pulls = new(StringComparer.Ordinal);

    public KwarmMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);

        meter.CreateObservableCounter("kwarm_webhook_requests_total", () => Observe(_webhookRequests, "decision").Concat(ObserveNodeRequests()), description: "Admission requests answered, by decision and workload kind.");
        _webhookDuration = meter.CreateHistogram<double>("kwarm_webhook_duration_seconds", description: "Time to answer one admission request.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
        _pullDuration = meter.CreateHistogram<double>("kwarm_pull_duration_seconds", description: "Time from a pull Job's start to the image on the node.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800] });
        meter.CreateObservableCounter("kwarm_pulls_total", () => Observe(_pulls, "result"), description: "Finished per-node pull attempts, by result.");
        _holdDuration = meter.CreateHistogram<double>("kwarm_hold_duration_seconds", description: "Time a rollout was held, by release reason and workload kind.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600] });

        _nodeWarmupDuration = meter.CreateHistogram<double>("kwarm_node_warmup_duration_seconds", description: "Time from a node's creation to Kwarm lifting its warming taint, by result.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600] });
        meter.CreateObservableGauge("kwarm_warming_nodes", () => Interlocked.Read(ref _warmingNodes), description: "Nodes carrying the warming taint now.");
        meter.CreateObservableGauge("kwarm_active_pulls", () => Interlocked.Read(ref _activePulls), description: "Pull Jobs running now.");
        meter.CreateObservableGauge("kwarm_holds_active", () => _holdsActive.Select(pair => new Measurement<long>(pair.Value, Kind(pair.Key))), description: "Workloads held now, by kind.");
        meter.CreateObservableGauge("kwarm_prepullimages_by_phase", () => Observe(_prePullImagesByPhase, "phase"), description: "PrePullImages by phase.");
        meter.CreateObservableGauge("kwarm_watched_deployments", () => Observe(_watchedDeployments, "policy"), description: "Deployments selected, by policy.");
        meter.CreateObservableGauge("kwarm_watched_workloads", () => Observe(_watchedWorkloads, "policy"), description: "Workloads selected, by policy and kind.");

        // A zero per known label makes every series visible before its first event, so rate() works from the start.
        // (Counter.Add(0) would not do: measurements made before a listener attaches are lost.)
        foreach (var kind in Enum.GetValues<WorkloadKind>())
        {
            _holdsActive[kind] = 0;
            foreach (var decision in new[] { Decisions.Hold, Decisions.Allow, Decisions.Invalid, Decisions.Overloaded })
            {
                _webhookRequests[(decision, kind)] = 0;
            }
        }

        foreach (var result in new[] { PullResults.Pulled, PullResults.Failed, PullResults.TimedOut })
        {
            _pulls[result] = 0;
        }

        foreach (var phase in Enum.GetNames<Resources.PrePullImagePhase>())
        {
            _prePullImagesByPhase[phase] = 0;
        }
    }

    /// <summary>A Deployment's admission request (<see cref="WebhookRequest(string, WorkloadKind, TimeSpan)"/>).</summary>
    public void WebhookRequest(string decision, TimeSpan elapsed) => WebhookRequest(decision, WorkloadKind.Deployment, elapsed);

    public void WebhookRequest(string decision, WorkloadKind kind, TimeSpan elapsed)
    {
        _webhookRequests.AddOrUpdate((decision, kind), 1, static (_, count) => count + 1);
        _webhookDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("decision", decision));
    }

    /// <summary>The <c>kind</c> of a Node's admission request (<c>/mutate/nodes</c>): no workload kind, so not a <see cref="WorkloadKind"/>.</summary>
    public const string NodeKind = "Node";

    // A zero per decision from the first scrape, as for the workload kinds.
    private readonly ConcurrentDictionary<string, long> _nodeWebhookRequests = new(
        new[] { Decisions.Hold, Decisions.Allow, Decisions.Invalid, Decisions.Overloaded }.Select(decision => new KeyValuePair<string, long>(decision, 0)),
        StringComparer.Ordinal);

    /// <summary>A review of <c>/mutate/nodes</c>, counted under <c>kind="Node"</c>.</summary>
    public void NodeWebhookRequest(string decision, TimeSpan elapsed)
    {
        _nodeWebhookRequests.AddOrUpdate(decision, 1, static (_, count) => count + 1);
        _webhookDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("decision", decision));
    }

    private IEnumerable<Measurement<long>> ObserveNodeRequests() =>
        _nodeWebhookRequests.Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>("decision", pair.Key), new KeyValuePair<string, object?>("kind", NodeKind)));

    public void PullFinished(string result, TimeSpan? elapsed)
    {
        _pulls.AddOrUpdate(result, 1, static (_, count) => count + 1);
        if (elapsed is { } duration)
        {
            _pullDuration.Record(duration.TotalSeconds);
        }
    }

    /// <summary>A Deployment's hold ended (<see cref="HoldReleased(string, WorkloadKind, TimeSpan)"/>).</summary>
    public void HoldReleased(string reason, TimeSpan heldFor) => HoldReleased(reason, WorkloadKind.Deployment, heldFor);

    public void HoldReleased(string reason, WorkloadKind kind, TimeSpan heldFor) =>
        _holdDuration.Record(heldFor.TotalSeconds, new KeyValuePair<string, object?>("reason", reason), Kind(kind));

    /// <summary>A node's warming taint was lifted, <paramref name="sinceCreation"/> after the Node was created; <paramref name="result"/> from <see cref="WarmupResults"/>.</summary>
    public void NodeWarmupEnded(string result, TimeSpan sinceCreation) =>
        _nodeWarmupDuration.Record(Math.Max(0, sinceCreation.TotalSeconds), new KeyValuePair<string, object?>("result", result));

    public void SetWarmingNodes(long count) => Interlocked.Exchange(ref _warmingNodes, count);

    public void SetActivePulls(long count) => Interlocked.Exchange(ref _activePulls, count);

    /// <summary>Deployments held now (<see cref="SetHoldsActive(WorkloadKind, long)"/>).</summary>
    public void SetHoldsActive(long count) => SetHoldsActive(WorkloadKind.Deployment, count);

    public void SetHoldsActive(WorkloadKind kind, long count) => _holdsActive[kind] = count;

    public void SetPrePullImagesByPhase(string phase, long count) => _prePullImagesByPhase[phase] = count;

    /// <summary><c>kwarm_watched_deployments</c>, and the Deployment series of <c>kwarm_watched_workloads</c>.</summary>
    public void SetWatchedDeployments(string policy, long count) => SetWatchedWorkloads(policy, WorkloadKind.Deployment, count);

    /// <summary><c>kwarm_watched_workloads</c>; for Deployments also <c>kwarm_watched_deployments</c>, which keeps counting them.</summary>
    public void SetWatchedWorkloads(string policy, WorkloadKind kind, long count)
    {
        _watchedWorkloads[(policy, kind)] = count;
        if (kind == WorkloadKind.Deployment)
        {
            _watchedDeployments[policy] = count;
        }
    }

    /// <summary>A deleted policy must stop being reported, not stay frozen at its last count.</summary>
    public void ForgetPolicy(string policy)
    {
        _watchedDeployments.TryRemove(policy, out _);
        foreach (var kind in Enum.GetValues<WorkloadKind>())
        {
            _watchedWorkloads.TryRemove((policy, kind), out _);
        }
    }

    private static KeyValuePair<string, object?> Kind(WorkloadKind kind) => new("kind", kind.ToString());

    /// <summary>A series per (label value, kind).</summary>
    private static IEnumerable<Measurement<long>> Observe(ConcurrentDictionary<(string Value, WorkloadKind Kind), long> values, string label) =>
        values.Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>(label, pair.Key.Value), Kind(pair.Key.Kind)));

    private static IEnumerable<Measurement<long>> Observe(ConcurrentDictionary<string, long> values, string label) =>
        values.Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>(label, pair.Key)));
}
