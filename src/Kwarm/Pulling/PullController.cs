using k8s.Models;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kwarm.Pulling;

/// <summary>
/// The pull engine as a leader-only worker: each leadership term gets a fresh <see cref="PullTerm"/> and two work
/// queues (PrePullImage keys for the reconciler, <see cref="PullSchedulingPass"/> for the scheduling loop), fed by the PrePullImage, Node, Job and pull-Pod informers (whose subscriptions replay the caches, so every
/// PrePullImage is looked at once per term). No polling: the only timed wake-ups are the queue's <c>AddAfter</c>
/// for backoffs, attempt timeouts and the finished-PrePullImage TTL.
/// </summary>
public sealed class PullController : ILeaderOnlyWorker
{
    public const int Workers = 4;

    private readonly ResourceInformer<PrePullImage> _images;
    private readonly ResourceInformer<V1Node> _nodes;
    private readonly ResourceInformer<V1Job> _jobs;
    private readonly ResourceInformer<V1Pod> _pods;
    private readonly ResourceInformer<V1Deployment> _deployments;
    private readonly IPullApi _api;
    private readonly KwarmOptions _options;
    private readonly KwarmMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<PullController> _logger;
    private readonly RuntimeMetrics _runtimeMetrics;

    public PullController(
        ResourceInformer<PrePullImage> images,
        ResourceInformer<V1Node> nodes,
        ResourceInformer<V1Job> jobs,
        ResourceInformer<V1Pod> pods,
        ResourceInformer<V1Deployment> deployments,
        IPullApi api,
        IOptions<KwarmOptions> options,
        KwarmMetrics metrics,
        TimeProvider timeProvider,
        ILogger<PullController> logger,
        RuntimeMetrics runtimeMetrics)
    {
        _runtimeMetrics = runtimeMetrics;
        ArgumentNullException.ThrowIfNull(options);
        _images = images;
        _nodes = nodes;
        _jobs = jobs;
        _pods = pods;
        _deployments = deployments;
        _api = api;
        _options = options.Value;
        _metrics = metrics;
        _time = timeProvider;
        _logger = logger;
    }

    public Task RunAsync(CancellationToken leadership)
    {
        var term = new PullTerm(
            _images.Cache, _nodes.Cache, _jobs.Cache, _pods.Cache, _api,
            new PullEngineOptions(_options.MaxConcurrentPulls, _options.MaxPullsPerNode, _options.ToolsImage, _options.FinishedPrePullImageTtl),
            _metrics, _time, _logger, _deployments.Cache);

        // The scheduling loop's queue is attached first: the PrePullImage loop's subscriptions replay the caches at once,
        // and their reconciles ask for passes.
        return Task.WhenAll(
            ControllerLoop.RunAsync<PullSchedulingPass>(
                "pull-scheduling",
                queue =>
                {
                    term.Trigger.Attach(delay =>
                    {
                        if (delay > TimeSpan.Zero)
                        {
                            queue.AddAfter(PullSchedulingPass.Due, delay);
                        }
                        else
                        {
                            queue.Add(PullSchedulingPass.Due);
                        }
                    });
                    return [];
                },
                term.Scheduling.RunPassAsync,
                workers: 1,
                new WorkQueueOptions(),
                _time,
                _logger,
                _runtimeMetrics,
                leadership),
            ControllerLoop.RunAsync<string>(
                "pulls",
                queue =>
                {
                    term.AttachImageQueue(queue.Add);
                    return
                    [
                        _jobs.Subscribe(term.Events.OnJob),
                        _pods.Subscribe(term.Events.OnPod),
                        _nodes.Subscribe(term.Events.OnNode),
                        _images.Subscribe(term.Events.OnImage),
                    ];
                },
                term.Reconciler.ReconcileAsync,
                Workers,
                new WorkQueueOptions(),
                _time,
                _logger,
                _runtimeMetrics,
                leadership));
    }
}
