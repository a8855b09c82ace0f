using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// The pull engine's metrics (README "Metrics"): finished attempts when the status recording them is written, active
/// pulls on every Job event and scheduling pass, PrePullImages by phase on every reconcile. Without a
/// <see cref="KwarmMetrics"/> (unit tests) it records nothing.
/// </summary>
public sealed class PullMetrics
{
    private readonly KwarmMetrics? _metrics;
    private readonly ResourceCache<PrePullImage> _images;
    private readonly ResourceCache<V1Job> _jobs;
    private readonly ResourceCache<V1Pod> _pods;
    private readonly PullScheduler _scheduler;

    public PullMetrics(KwarmMetrics? metrics, ResourceCache<PrePullImage> images, ResourceCache<V1Job> jobs, ResourceCache<V1Pod> pods, PullScheduler scheduler)
    {
        _metrics = metrics;
        _images = images;
        _jobs = jobs;
        _pods = pods;
        _scheduler = scheduler;
    }

    public void AttemptFinished(FinishedAttempt attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        _metrics?.PullFinished(attempt.Result, attempt.Duration);
    }

    public void ReportActivePulls() => _metrics?.SetActivePulls(_scheduler.CountActive(PullSchedulingLoop.PullJobs(_jobs), _pods.List()));

    public void ReportPhases()
    {
        if (_metrics is null)
        {
            return;
        }

        var counts = Enum.GetValues<PrePullImagePhase>().ToDictionary(phase => phase, _ => 0L);
        foreach (var image in _images.List())
        {
            counts[image.Status?.Phase ?? PrePullImagePhase.Pending]++;
        }

        foreach (var (phase, count) in counts)
        {
            _metrics.SetPrePullImagesByPhase(phase.ToString(), count);
        }
    }
}
