using System.Collections.Concurrent;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Warmup;

/// <summary>
/// One warm-up pass (<see cref="WarmupPass"/>): plans from the caches (<see cref="WarmupPlanner"/>), brings the warm-up
/// PrePullImages to the plan (create the missing, delete the unneeded and the outdated), records each node's start, and lifts the
/// taint of every node whose warm-up ended. Stateless apart from which starts it has already recorded (an Event a
/// restart records again is refused by name), so a restart or failover picks every tainted node up, and one past its
/// deadline is lifted in the first pass. It asks to run again at the nearest deadline; every other reason to run
/// (a node, workload, policy or PrePullImage changed) comes as a watch event.
/// </summary>
public sealed class NodeWarmupReconciler
{
    private static readonly TimeSpan SoonestRequeue = TimeSpan.FromSeconds(1);

    private readonly WarmupSources _sources;
    private readonly IWarmupApi _api;
    private readonly KwarmMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _kwarmNamespace;
    private readonly string _instance;
    private readonly ConcurrentDictionary<string, byte> _announced = new(StringComparer.Ordinal);

    public NodeWarmupReconciler(WarmupSources sources, IWarmupApi api, KwarmMetrics metrics, TimeProvider time, ILogger<NodeWarmupReconciler> logger, string kwarmNamespace, string instance)
    {
        _sources = sources;
        _api = api;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _kwarmNamespace = kwarmNamespace;
        _instance = instance;
    }

    public async Task<ReconcileResult> RunPassAsync(WarmupPass pass, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        var now = _time.GetUtcNow();
        var existing = _sources.WarmupImages();
        var plan = WarmupPlanner.Plan(new WarmupWorld(
            _sources.Nodes.List(), _sources.Policies.List(), _sources.Workloads(), existing, _sources.ServiceAccount, _kwarmNamespace, now));
        _metrics.SetWarmingNodes(plan.Nodes.Count);

        await SyncPrePullImagesAsync(plan.Desired, plan.Stale, existing, cancellationToken).ConfigureAwait(false);
        DateTimeOffset? next = null;
        foreach (var verdict in plan.Nodes)
        {
            if (verdict.Lift is null)
            {
                await AnnounceAsync(verdict, now, cancellationToken).ConfigureAwait(false);
                next = next is { } soonest && soonest <= verdict.Deadline ? soonest : verdict.Deadline;
                continue;
            }

            await LiftAsync(verdict, now, cancellationToken).ConfigureAwait(false);
        }

        var live = plan.Nodes.Select(verdict => verdict.Uid).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _announced.Keys.Where(uid => !live.Contains(uid)))
        {
            _announced.TryRemove(gone, out _);
        }

        return next is { } deadline ? ReconcileResult.After(deadline - now > SoonestRequeue ? deadline - now : SoonestRequeue) : ReconcileResult.Done;
    }

    private async Task SyncPrePullImagesAsync(IReadOnlyList<PrePullImage> desired, IReadOnlyList<PrePullImage> stale, IReadOnlyList<PrePullImage> existing, CancellationToken cancellationToken)
    {
        var current = existing.ToDictionary(image => ResourceKeys.For(image), StringComparer.Ordinal);
        var restart = stale.Select(image => ResourceKeys.For(image)).ToHashSet(StringComparer.Ordinal);
        foreach (var image in desired)
        {
            var key = ResourceKeys.For(image);
            var nodes = image.Spec.Nodes?.Names?.Count ?? 0;
            if (!current.Remove(key, out var found))
            {
                await _api.CreatePrePullImageAsync(image, cancellationToken).ConfigureAwait(false);
                _logger.PrePullImageChanged(image.Metadata.NamespaceProperty ?? "", image.Metadata.Name, "created", nodes);
            }
            else if (found.Metadata.DeletionTimestamp is null && restart.Contains(key))
            {
                // It finished while its node could not take pulls; its deletion event brings the pass that creates it again.
                await _api.DeletePrePullImageAsync(found.Metadata.NamespaceProperty ?? "", found.Metadata.Name, cancellationToken).ConfigureAwait(false);
                _logger.PrePullImageChanged(found.Metadata.NamespaceProperty ?? "", found.Metadata.Name, "deleted: it finished before its node could take pulls", nodes);
            }
            else if (found.Metadata.DeletionTimestamp is null && KwarmJson.Serialize(found.Spec) != KwarmJson.Serialize(image.Spec))
            {
                // A workload's pull settings changed (secrets, tolerations): the old one goes, and its deletion event
                // brings the pass that creates the new one. Kwarm never updates a PrePullImage.
                await _api.DeletePrePullImageAsync(found.Metadata.NamespaceProperty ?? "", found.Metadata.Name, cancellationToken).ConfigureAwait(false);
                _logger.PrePullImageChanged(found.Metadata.NamespaceProperty ?? "", found.Metadata.Name, "deleted: its pull settings changed", nodes);
            }
        }

        foreach (var unneeded in current.Values.Where(image => image.Metadata.DeletionTimestamp is null))
        {
            await _api.DeletePrePullImageAsync(unneeded.Metadata.NamespaceProperty ?? "", unneeded.Metadata.Name, cancellationToken).ConfigureAwait(false);
            _logger.PrePullImageChanged(unneeded.Metadata.NamespaceProperty ?? "", unneeded.Metadata.Name, "deleted: no warming node needs it", 0);
        }
    }

    private async Task AnnounceAsync(NodeWarmupVerdict verdict, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!_announced.TryAdd(verdict.Uid, 0))
        {
            return;
        }

        _logger.Warming(verdict.Name, verdict.Images.Count, verdict.Deadline);
        await RecordAsync(WarmupEvents.StartedOn(verdict, now.UtcDateTime, _instance), verdict.Name, cancellationToken).ConfigureAwait(false);
    }

    private async Task LiftAsync(NodeWarmupVerdict verdict, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (WarmingTaint.LiftPatch(verdict.Node) is not { } patch)
        {
            return;
        }

        if (!await _api.PatchNodeAsync(verdict.Name, patch, cancellationToken).ConfigureAwait(false))
        {
            // The Node's taints changed under us (or it went): its watch event brings the next pass.
            _logger.LiftRefused(verdict.Name);
            return;
        }

        var age = now - verdict.CreatedAt;
        _metrics.NodeWarmupEnded(Label(verdict.Lift!.Value), age);
        _logger.Lifted(verdict.Name, verdict.Lift.Value, age, verdict.Images.Count, verdict.Failures.Count, verdict.Pending);
        foreach (var failure in verdict.Failures)
        {
            await RecordAsync(WarmupEvents.FailedOn(verdict, failure, now.UtcDateTime, _instance), verdict.Name, cancellationToken).ConfigureAwait(false);
        }

        await RecordAsync(WarmupEvents.Lifted(verdict, age, now.UtcDateTime, _instance), verdict.Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An event is worth a warning in the log when it cannot be written, never a failed pass.</summary>
    private async Task RecordAsync(Corev1Event nodeEvent, string node, CancellationToken cancellationToken)
    {
        try
        {
            await _api.CreateEventAsync(nodeEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            _logger.EventFailed(exception, nodeEvent.Reason, node);
        }
    }

    public static string Label(WarmupOutcome outcome) => outcome switch
    {
        WarmupOutcome.Warm => KwarmMetrics.WarmupResults.Warm,
        WarmupOutcome.Failed => KwarmMetrics.WarmupResults.Failed,
        WarmupOutcome.Timeout => KwarmMetrics.WarmupResults.Timeout,
        _ => KwarmMetrics.WarmupResults.NotNeeded,
    };
}
