namespace Kwarm.Kubernetes;

/// <summary>
/// The resident memory Kwarm is projected to need for what its caches hold:
/// <c>Baseline + PerNode × nodes + PerWorkload × workloads</c> (<see cref="CacheMemoryCoefficients"/>).
/// Workloads are the Deployments, StatefulSets and DaemonSets, which Kwarm caches cluster-wide. The other caches are
/// left out: Jobs and Pods are only Kwarm's own pull Jobs (a few per node at most), and Namespaces, ServiceAccounts and
/// Kwarm's own resources are few next to the workloads and inside the fit's baseline at the sizes measured.
/// </summary>
public sealed record CacheMemoryEstimate(int Nodes, int Workloads)
{
    /// <summary>
    /// The share of the memory limit Kwarm may plan to use: DESIGN §9 asks for 30 % headroom under the installed limit
    /// (for webhook bursts, relists that hold two copies of a type, and the GC's own slack).
    /// </summary>
    public const double UsableShareOfLimit = 0.7;

    public long ProjectedBytes =>
        CacheMemoryCoefficients.BaselineBytes
        + (CacheMemoryCoefficients.PerNodeBytes * Nodes)
        + (CacheMemoryCoefficients.PerWorkloadBytes * Workloads);

    public double ProjectedMiB => (double)ProjectedBytes / CacheMemoryCoefficients.MiB;

    /// <summary>True when the projection stays within <see cref="UsableShareOfLimit"/> of <paramref name="limitBytes"/>.</summary>
    public bool FitsWithHeadroom(long limitBytes) => ProjectedBytes <= limitBytes * UsableShareOfLimit;

    /// <summary>The smallest memory limit that leaves the headroom for this projection, in MiB rounded up.</summary>
    public long SmallestLimitMiB => (long)Math.Ceiling(ProjectedMiB / UsableShareOfLimit);
}
