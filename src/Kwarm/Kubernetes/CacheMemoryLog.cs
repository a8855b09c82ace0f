namespace Kwarm.Kubernetes;

/// <summary>The log messages of <see cref="CacheMemoryCheck"/>.</summary>
internal static partial class CacheMemoryLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning,
        Message = "Memory limit too small for the caches: {Nodes} nodes and {Workloads} workloads (Deployments, StatefulSets, DaemonSets) cached, " +
                  "projected to need {ProjectedMiB} MiB, more than 70 % of the {LimitMiB} MiB memory limit; " +
                  "raise it to at least {SmallestLimitMiB} MiB, see the sizing table in docs/install.md")]
    public static partial void LimitTooSmall(this ILogger logger, int nodes, int workloads, long projectedMiB, long limitMiB, long smallestLimitMiB);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information,
        Message = "{Nodes} nodes and {Workloads} workloads cached: projected to need {ProjectedMiB} MiB, within 70 % of the {LimitMiB} MiB memory limit")]
    public static partial void FitsLimit(this ILogger logger, int nodes, int workloads, long projectedMiB, long limitMiB);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information,
        Message = "{Nodes} nodes and {Workloads} workloads cached: projected to need {ProjectedMiB} MiB; no memory limit found under {CgroupRoot}")]
    public static partial void NoLimit(this ILogger logger, int nodes, int workloads, long projectedMiB, string cgroupRoot);
}
