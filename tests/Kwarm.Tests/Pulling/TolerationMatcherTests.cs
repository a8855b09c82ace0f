using Kwarm.Pulling;
using Kwarm.Resources;
using k8s.Models;

namespace Kwarm.Tests.Pulling;

public sealed class TolerationMatcherTests
{
    [Theory]
    [InlineData("dedicated", "Equal", "gpu", "NoSchedule", "dedicated", "gpu", "NoSchedule", true)]
    [InlineData("dedicated", null, "gpu", "NoSchedule", "dedicated", "gpu", "NoSchedule", true)]
    [InlineData("dedicated", "Equal", "cpu", "NoSchedule", "dedicated", "gpu", "NoSchedule", false)]
    [InlineData("dedicated", "Exists", null, "NoSchedule", "dedicated", "gpu", "NoSchedule", true)]
    [InlineData("dedicated", "Exists", null, null, "dedicated", "gpu", "NoExecute", true)]
    [InlineData("dedicated", "Exists", null, "NoExecute", "dedicated", "gpu", "NoSchedule", false)]
    [InlineData("other", "Exists", null, null, "dedicated", "gpu", "NoSchedule", false)]
    [InlineData(null, "Exists", null, null, "dedicated", "gpu", "NoSchedule", true)]
    [InlineData(null, "Exists", null, "NoSchedule", "dedicated", "gpu", "NoExecute", false)]
    [InlineData(null, "Equal", "gpu", null, "dedicated", "gpu", "NoSchedule", false)]
    [InlineData("dedicated", "Sometimes", "gpu", null, "dedicated", "gpu", "NoSchedule", false)]
    [InlineData("flag", "Equal", null, null, "flag", null, "NoSchedule", true)]
    public void Tolerations_follow_kubernetes_semantics(
        string? key, string? op, string? value, string? effect, string taintKey, string? taintValue, string taintEffect, bool expected)
    {
        var toleration = new V1Toleration { Key = key, OperatorProperty = op, Value = value, Effect = effect };
        var taint = new V1Taint { Key = taintKey, Value = taintValue, Effect = taintEffect };

        Assert.Equal(expected, TolerationMatcher.Tolerates(toleration, taint));
    }

    [Fact]
    public void Every_blocking_taint_must_be_tolerated_and_prefer_no_schedule_never_blocks()
    {
        V1Taint[] taints =
        [
            new() { Key = "a", Value = "1", Effect = "NoSchedule" },
            new() { Key = "b", Value = "2", Effect = "NoExecute" },
            new() { Key = "c", Value = "3", Effect = "PreferNoSchedule" },
        ];
        var onlyA = new[] { new V1Toleration { Key = "a", OperatorProperty = "Exists" } };
        var aAndB = new[] { new V1Toleration { Key = "a", OperatorProperty = "Exists" }, new V1Toleration { Key = "b", Value = "2" } };

        Assert.False(TolerationMatcher.ToleratesAll(taints, onlyA));
        Assert.True(TolerationMatcher.ToleratesAll(taints, aAndB));
        Assert.False(TolerationMatcher.ToleratesAll(taints, null));
        Assert.True(TolerationMatcher.ToleratesAll(null, null));
    }
}
