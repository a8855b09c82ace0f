namespace Kwarm.Kubernetes;

/// <summary>
/// How Kwarm's resident memory grows with what its caches hold: the growth fit of docs/benchmarks.md, "## Scale"
/// (RSS with everything cached, against the node and workload counts of the runs). The one place these numbers live;
/// <see cref="CacheMemoryEstimate"/> and the sizing table of docs/install.md are derived from them.
/// Current values: from the 1,000-node growth runs; refreshed by the 5,000-node runs.
/// </summary>
public static class CacheMemoryCoefficients
{
    /// <summary>Kwarm with empty caches: the native binary and libraries as mapped, the runtime, Kestrel, TLS, HTTP/2.</summary>
    public const long BaselineBytes = 95 * MiB;

    /// <summary>One cached Node, trimmed (its image names dominate), with its share of the GC's headroom.</summary>
    public const long PerNodeBytes = 12 * KiB;

    /// <summary>One cached Deployment, StatefulSet or DaemonSet, trimmed, with its share of the GC's headroom.</summary>
    public const long PerWorkloadBytes = 3 * KiB;

    public const long KiB = 1024;
    public const long MiB = 1024 * KiB;
}
