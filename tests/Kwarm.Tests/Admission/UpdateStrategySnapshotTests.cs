using System.Text;
using Kwarm.Admission;

namespace Kwarm.Tests.Admission;

/// <summary>The webhook's in-place read of <c>spec.updateStrategy</c>: what the decision needs and the compact JSON a DaemonSet hold records.</summary>
public sealed class UpdateStrategySnapshotTests
{
    private static WorkloadSnapshot Read(string spec) =>
        WorkloadSnapshot.Read(Encoding.UTF8.GetBytes("""{"metadata":{"name":"x"},"spec":{""" + spec + "}}"));

    [Fact]
    public void Reads_type_partition_and_the_strategy_as_compact_JSON_in_its_own_order()
    {
        var snapshot = Read("""
            "updateStrategy" : { "rollingUpdate" : { "partition" : 2 , "maxUnavailable": "25%" }, "type" : "RollingUpdate" },
            "template": {"spec": {"containers": [{"name": "a", "image": "nginx:1.27"}]}}
            """);

        Assert.Equal(new UpdateStrategySnapshot("RollingUpdate", true, 2, """{"rollingUpdate":{"partition":2,"maxUnavailable":"25%"},"type":"RollingUpdate"}"""), snapshot.UpdateStrategy);
        Assert.Equal(["docker.io/library/nginx:1.27"], snapshot.Images);
    }

    [Theory]
    [InlineData("""{"type":"OnDelete"}""", "OnDelete", false, null)]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{}}""", "RollingUpdate", true, null)]
    [InlineData("""{"rollingUpdate":{"partition":"3"}}""", null, true, null)]
    [InlineData("""{"rollingUpdate":null}""", null, false, null)]
    [InlineData("""{"rollingUpdate":{"partition":2147483647}}""", null, true, 2147483647)]
    public void Reads_leniently(string strategy, string? type, bool hasRollingUpdate, int? partition)
    {
        var snapshot = Read($"\"updateStrategy\":{strategy}");

        Assert.Equal((type, hasRollingUpdate, partition, strategy), (snapshot.UpdateStrategy!.Type, snapshot.UpdateStrategy.HasRollingUpdate, snapshot.UpdateStrategy.Partition, snapshot.UpdateStrategy.Json));
    }

    [Fact]
    public void A_strategy_that_is_not_an_object_is_none_and_the_rest_is_still_read()
    {
        var snapshot = Read("""
            "updateStrategy": "OnDelete", "replicas": 4
            """);

        Assert.Null(snapshot.UpdateStrategy);
        Assert.Equal(4, snapshot.Replicas);
    }

    [Fact]
    public void An_oversized_strategy_is_not_copied_and_the_reader_goes_on_past_it()
    {
        var huge = string.Join(",", Enumerable.Range(0, 2000).Select(index => $"\"k{index}\":[{index},{{\"deep\":true}}]"));

        var snapshot = Read($$"""
            "updateStrategy": {"type":"RollingUpdate",{{huge}}}, "replicas": 2
            """);

        Assert.Null(snapshot.UpdateStrategy!.Json);
        Assert.Equal(2, snapshot.Replicas);
    }
}
