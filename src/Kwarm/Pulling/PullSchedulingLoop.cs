using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;

namespace Kwarm.Pulling;

/// <summary>
/// The cluster-wide scheduling pass, run from its own queue (<see cref="PullSchedulingPass"/>, one worker, woken by
/// <see cref="PullSchedulingTrigger"/>): grants the demand the reconciler recorded in the <see cref="PullScheduler"/>
/// under the caps and creates the granted Jobs. It reads what the reconciler wrote (demand, <see cref="KnownPullStatuses"/>)
/// and never calls it; a created or refused Job is reported as a changed reservation of its owner, which the term
/// wires to the PrePullImage queue the way an informer event would be.
/// </summary>
public sealed class PullSchedulingLoop
{
    private static readonly TimeSpan CreateGraceAfterLeadership = TimeSpan.FromSeconds(10);

    private readonly ResourceCache<V1Job> _jobs;
    private readonly ResourceCache<V1Pod> _pods;
    private readonly IPullApi _api;
    private readonly PullEngineOptions _options;
    private readonly PullJobTemplate _template;
    private readonly PullScheduler _scheduler;
    private readonly PullSchedulingTrigger _trigger;
    private readonly KnownPullStatuses _known;
    private readonly PullMetrics _metrics;
    private readonly Action<string> _reservationChanged;
    private readonly ILogger _logger;

    public PullSchedulingLoop(
        ResourceCache<V1Job> jobs,
        ResourceCache<V1Pod> pods,
        IPullApi api,
        PullEngineOptions options,
        PullScheduler scheduler,
        PullSchedulingTrigger trigger,
        KnownPullStatuses known,
        PullMetrics metrics,
        Action<string> reservationChanged,
        ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _jobs = jobs;
        _pods = pods;
        _api = api;
        _options = options;
        _template = new PullJobTemplate(options.ToolsImage);
        _scheduler = scheduler;
        _trigger = trigger;
        _known = known;
        _metrics = metrics;
        _reservationChanged = reservationChanged ?? throw new ArgumentNullException(nameof(reservationChanged));
        _logger = logger;
    }

    /// <summary>One pass: grants what the caps allow and creates those Jobs (at most <see cref="PullEngineOptions.CreateParallelism"/> at once).</summary>
    public async Task<ReconcileResult> RunPassAsync(PullSchedulingPass pass, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pass);
        var grants = _scheduler.Plan(PullJobs(_jobs), _template.Build, _pods.List(), StillWanted);

        // A create already sent is allowed to finish when leadership ends (for a while): abandoned, it could still be
        // committed after the next leader listed the Jobs, and that leader would not count it.
        using var creates = new CancellationTokenSource();
        using var ending = cancellationToken.Register(() => creates.CancelAfter(CreateGraceAfterLeadership));
        using var gate = new SemaphoreSlim(_options.CreateParallelism);
        await Task.WhenAll(grants.Select(async grant =>
        {
            await gate.WaitAsync(creates.Token).ConfigureAwait(false);
            try
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    // Not sent yet: nothing to wait for.
                    _scheduler.Release(ResourceKeys.For(grant.Job));
                    return;
                }

                await CreateAsync(grant.Attempt, grant.Job, creates.Token).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);

        _metrics.ReportActivePulls();
        return ReconcileResult.Done;
    }

    /// <summary>The pull Jobs in the cache: Jobs owned by a PrePullImage.</summary>
    public static List<V1Job> PullJobs(ResourceCache<V1Job> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return [.. jobs.List().Where(job => job.Metadata?.OwnerReferences?.Any(owner => owner.Kind == PrePullImage.KubeKind) == true)];
    }

    private async Task CreateAsync(PullAttempt attempt, V1Job job, CancellationToken cancellationToken)
    {
        var key = ResourceKeys.For(job);
        var owner = ResourceKeys.For(attempt.PrePullImage);
        try
        {
            var created = await _api.CreateJobAsync(job, cancellationToken).ConfigureAwait(false);
            _scheduler.Created(key, created);
            _logger.JobStarted(job.Metadata.NamespaceProperty, job.Metadata.Name, attempt.Node, attempt.Attempt);
        }
        catch (ApiConflictException)
        {
            // A Job of this name exists already (a create retried after a timeout, an earlier leader's, or one of an
            // earlier object of the same name on its way out): the reservation holds the slot until the cache shows
            // it, and the planner then judges the Job it finds there by its owner.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Refused (RBAC, quota, an admission policy, an invalid spec) or unreachable: this Job is not tried again
            // before a growing delay, so a refusal never turns into a loop of creates.
            var delay = _scheduler.CreateFailed(key);
            _logger.JobCreateFailed(ApiErrors.IsTransient(ex) ? null : ex, job.Metadata.NamespaceProperty, job.Metadata.Name, ApiErrors.Describe(ex), delay);
            _trigger.RequestAfter(delay);
        }

        // The owner's reservations changed (a Job it can count before the watch shows it, or a demand to record again).
        _reservationChanged(owner);
    }

    /// <summary>Whether the latest status known here still waits for exactly this attempt of this node.</summary>
    private bool StillWanted(PullAttempt attempt)
    {
        var image = _known.Current(ResourceKeys.For(attempt.PrePullImage));
        if (image?.Metadata is null || image.Metadata.Uid != attempt.PrePullImage.Metadata.Uid || image.Metadata.DeletionTimestamp is not null)
        {
            return false;
        }

        var entry = image.Status?.Nodes?.FirstOrDefault(node => node.Node == attempt.Node)
            ?? _known.Remembered(image.Metadata.Uid ?? "")?.FirstOrDefault(node => node.Node == attempt.Node);
        return entry is null || (entry.Status == NodePullState.Pending && (entry.RetryCount ?? 0) == attempt.Attempt - 1);
    }
}
