namespace Kwarm.Kubernetes;

/// <summary>
/// How Kwarm's resident memory grows with the cluster: the growth fits of docs/benchmarks.md, "## Storm" (500 to
/// 5,000 nodes with 5 Deployments per node, a storm of image changes, and a cold start against the full cluster).
/// The projection covers the larger of the storm's peak and a cold start's peak: the caches grow by 7.2 KiB per node
/// and 2.4 KiB per Deployment, and a storm's pull Jobs, pods and PrePullImage statuses add about 30 KiB per node on
/// top (the storm's peak grew by 49 KiB per node of that shape). The baseline covers a cold start's peak at the
/// smaller sizes (every list at once, before the GC has collected the untrimmed pages). The one place these numbers
/// live; <see cref="CacheMemoryEstimate"/> and the sizing table of docs/install.md are derived from them.
/// </summary>
public static class CacheMemoryCoefficients
{
    /// <summary>Kwarm with empty caches (the native binary and libraries as mapped, the runtime, Kestrel, TLS, HTTP/2) and the slack a cold start's lists leave until the GC collects their pages.</summary>
    public const long BaselineBytes = 110 * MiB;

    /// <summary>One cached Node, trimmed, and its share of a storm (the pulls a node takes part in).</summary>
    public const long PerNodeBytes = 37 * KiB;

    /// <summary>One cached Deployment, StatefulSet or DaemonSet, trimmed, with its share of the GC's headroom.</summary>
    public const long PerWorkloadBytes = 5 * KiB / 2;

    public const long KiB = 1024;
    public const long MiB = 1024 * KiB;
}
