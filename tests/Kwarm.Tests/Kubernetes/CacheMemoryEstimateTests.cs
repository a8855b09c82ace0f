using Kwarm.Kubernetes;

namespace Kwarm.Tests.Kubernetes;

/// <summary>The projection <c>Baseline + PerNode × nodes + PerWorkload × workloads</c> and the 30 % headroom of DESIGN §9.</summary>
public sealed class CacheMemoryEstimateTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Empty_caches_need_the_baseline()
    {
        Assert.Equal(CacheMemoryCoefficients.BaselineBytes, new CacheMemoryEstimate(0, 0).ProjectedBytes);
    }

    [Fact]
    public void Each_node_and_each_workload_adds_its_coefficient()
    {
        var estimate = new CacheMemoryEstimate(Nodes: 3, Workloads: 7);

        Assert.Equal(
            CacheMemoryCoefficients.BaselineBytes + (3 * CacheMemoryCoefficients.PerNodeBytes) + (7 * CacheMemoryCoefficients.PerWorkloadBytes),
            estimate.ProjectedBytes);
    }

    [Fact]
    public void Projection_is_in_bytes_and_MiB()
    {
        // 1,024 nodes and 1,024 workloads add exactly PerNode and PerWorkload in KiB, as MiB.
        var estimate = new CacheMemoryEstimate(1024, 1024);
        var expectedMiB = (double)CacheMemoryCoefficients.BaselineBytes / MiB
            + ((double)CacheMemoryCoefficients.PerNodeBytes / 1024)
            + ((double)CacheMemoryCoefficients.PerWorkloadBytes / 1024);

        Assert.Equal(expectedMiB, estimate.ProjectedMiB, precision: 9);
    }

    [Fact]
    public void Fits_when_the_projection_is_at_most_70_percent_of_the_limit()
    {
        var estimate = new CacheMemoryEstimate(100, 1000);
        var exactLimit = (long)Math.Ceiling(estimate.ProjectedBytes / 0.7);

        Assert.True(estimate.FitsWithHeadroom(exactLimit));
        Assert.False(estimate.FitsWithHeadroom(exactLimit - 1024));
        Assert.False(estimate.FitsWithHeadroom(estimate.ProjectedBytes));
    }

    [Fact]
    public void Smallest_limit_leaves_the_headroom()
    {
        var estimate = new CacheMemoryEstimate(5000, 25000);

        Assert.True(estimate.FitsWithHeadroom(estimate.SmallestLimitMiB * MiB));
        Assert.False(estimate.FitsWithHeadroom((estimate.SmallestLimitMiB - 1) * MiB));
    }
}
