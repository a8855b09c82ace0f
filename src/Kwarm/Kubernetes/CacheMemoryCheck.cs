using k8s.Models;
using Microsoft.Extensions.Hosting;

namespace Kwarm.Kubernetes;

/// <summary>
/// Once, when the first lists of the Node, Deployment, StatefulSet and DaemonSet caches are stored, projects the memory
/// Kwarm needs for them (<see cref="CacheMemoryEstimate"/>) and compares it with the cgroup's memory limit
/// (<see cref="CgroupMemoryLimit"/>): a warning when the projection takes more than 70 % of the limit, an information
/// line otherwise, so that an operator sees the projection either way. Runs on every replica, leader or not: every
/// replica fills the same caches, so every one would run out of memory alike. The check is not repeated as the
/// cluster grows: the start is when an operator reads the logs after sizing a change, and a warning repeated on every
/// relist would be noise.
/// </summary>
public sealed class CacheMemoryCheck : BackgroundService
{
    private readonly ResourceInformer<V1Node> _nodes;
    private readonly ResourceInformer<V1Deployment> _deployments;
    private readonly ResourceInformer<V1StatefulSet> _statefulSets;
    private readonly ResourceInformer<V1DaemonSet> _daemonSets;
    private readonly string _cgroupRoot;
    private readonly ILogger _logger;

    public CacheMemoryCheck(
        ResourceInformer<V1Node> nodes,
        ResourceInformer<V1Deployment> deployments,
        ResourceInformer<V1StatefulSet> statefulSets,
        ResourceInformer<V1DaemonSet> daemonSets,
        string cgroupRoot,
        ILogger<CacheMemoryCheck> logger)
    {
        _nodes = nodes;
        _deployments = deployments;
        _statefulSets = statefulSets;
        _daemonSets = daemonSets;
        _cgroupRoot = cgroupRoot;
        _logger = logger;
    }

    /// <summary>Logs how <paramref name="estimate"/> compares with <paramref name="limitBytes"/> (null: no limit known).</summary>
    public static void Report(ILogger logger, CacheMemoryEstimate estimate, long? limitBytes, string cgroupRoot)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(estimate);
        var projectedMiB = (long)Math.Ceiling(estimate.ProjectedMiB);
        if (limitBytes is not { } limit)
        {
            logger.NoLimit(estimate.Nodes, estimate.Workloads, projectedMiB, cgroupRoot);
        }
        else if (estimate.FitsWithHeadroom(limit))
        {
            logger.FitsLimit(estimate.Nodes, estimate.Workloads, projectedMiB, limit / CacheMemoryCoefficients.MiB);
        }
        else
        {
            logger.LimitTooSmall(estimate.Nodes, estimate.Workloads, projectedMiB, limit / CacheMemoryCoefficients.MiB, estimate.SmallestLimitMiB);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(
                _nodes.WaitForSyncAsync(stoppingToken),
                _deployments.WaitForSyncAsync(stoppingToken),
                _statefulSets.WaitForSyncAsync(stoppingToken),
                _daemonSets.WaitForSyncAsync(stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        var estimate = new CacheMemoryEstimate(
            _nodes.Cache.Count,
            _deployments.Cache.Count + _statefulSets.Cache.Count + _daemonSets.Cache.Count);
        Report(_logger, estimate, CgroupMemoryLimit.Read(_cgroupRoot), _cgroupRoot);
    }
}
