using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Holds;
using Kwarm.Resources;
using Kwarm.Workloads;
using static Kwarm.Tests.Admission.WorkloadReviews;

namespace Kwarm.Tests.Admission;

/// <summary>
/// The webhook's hold patch, then the hold controller's release patch, applied to the object by the independent
/// <see cref="JsonPatchApplier"/>: the user's exact value comes back, and no Kwarm annotation but <c>kwarm.io/released</c> is left.
/// </summary>
public sealed class HoldRoundTripTests
{
    [Theory]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"partition":1}}""", "1")]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""", "0")]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{}}""", "none")]
    [InlineData("""{"type":"RollingUpdate"}""", "none")]
    public void A_StatefulSets_partition_comes_back_exactly(string strategy, string recorded)
    {
        var (held, restored) = RoundTrip(WorkloadKind.StatefulSet, strategy, text => WorkloadObject.Of(KubernetesJson.Deserialize<V1StatefulSet>(text)));

        Assert.Equal(recorded, (string?)held.Annotations()[KwarmApi.PartitionAnnotation]);
        Assert.Equal(
            strategy == """{"type":"RollingUpdate"}""" ? """{"type":"RollingUpdate","rollingUpdate":{}}""" : strategy,
            restored.Strategy().ToJsonString());
    }

    [Theory]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"25%"}}""")]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}""")]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"10%","maxSurge":0}}""")]
    public void A_DaemonSets_strategy_comes_back_exactly(string strategy)
    {
        var (held, restored) = RoundTrip(WorkloadKind.DaemonSet, strategy, text => WorkloadObject.Of(KubernetesJson.Deserialize<V1DaemonSet>(text)));

        Assert.Equal(strategy, (string?)held.Annotations()[KwarmApi.UpdateStrategyAnnotation]);
        Assert.Equal(strategy, restored.Strategy().ToJsonString());
    }

    private static (JsonObject Held, JsonObject Restored) RoundTrip(WorkloadKind kind, string strategy, Func<string, WorkloadObject> read)
    {
        var review = Review(kind);
        review.NewObject().Spec()["updateStrategy"] = JsonNode.Parse(strategy);
        var original = (JsonObject)review.NewObject().DeepClone();
        var decision = Decide(review);
        var held = Patched(review, decision);

        var plan = HoldReleasePatch.For(read(held.ToJsonString()), decision.HoldId!);
        var restored = JsonPatchApplier.Apply(held, JsonNode.Parse(JsonPatchOperation.SerializeToString(plan.Patch))!.AsArray()).AsObject();

        Assert.Null(plan.RestoredDefault);
        Assert.Equal(decision.HoldId, (string?)restored.Annotations()[KwarmApi.ReleasedAnnotation]);
        restored.Annotations().Remove(KwarmApi.ReleasedAnnotation);
        original.Spec()["updateStrategy"] = restored.Spec()["updateStrategy"]!.DeepClone();
        Assert.True(JsonNode.DeepEquals(original, restored), restored.ToJsonString());
        return (held, restored);
    }

    [Theory]
    [InlineData(WorkloadKind.StatefulSet, null, """{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""")]
    [InlineData(WorkloadKind.StatefulSet, "-3", """{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""")]
    [InlineData(WorkloadKind.StatefulSet, "2147483647", """{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""")]
    [InlineData(WorkloadKind.DaemonSet, null, HoldMechanics.DefaultDaemonSetStrategy)]
    [InlineData(WorkloadKind.DaemonSet, "{not json", HoldMechanics.DefaultDaemonSetStrategy)]
    [InlineData(WorkloadKind.DaemonSet, """{"type":"OnDelete","rollingUpdate":{"maxSurge":1}}""", HoldMechanics.DefaultDaemonSetStrategy)]
    [InlineData(WorkloadKind.DaemonSet, """{"type":"Sometimes"}""", HoldMechanics.DefaultDaemonSetStrategy)]
    public void A_lost_record_restores_the_API_default_and_says_so(WorkloadKind kind, string? record, string expected)
    {
        var review = Review(kind);
        var held = Patched(review, Decide(review));
        var recordKey = HoldMechanics.RecordAnnotation(kind)!;
        if (record is null)
        {
            held.Annotations().Remove(recordKey);
        }
        else
        {
            held.Annotations()[recordKey] = record;
        }

        var text = held.ToJsonString();
        var workload = kind == WorkloadKind.StatefulSet ? WorkloadObject.Of(KubernetesJson.Deserialize<V1StatefulSet>(text)) : WorkloadObject.Of(KubernetesJson.Deserialize<V1DaemonSet>(text));
        var plan = HoldReleasePatch.For(workload, (string)held.Annotations()[KwarmApi.HoldAnnotation]!);
        var restored = JsonPatchApplier.Apply(held, JsonNode.Parse(JsonPatchOperation.SerializeToString(plan.Patch))!.AsArray()).AsObject();

        Assert.Equal(expected, restored.Strategy().ToJsonString());
        Assert.NotNull(plan.RestoredDefault);
        Assert.Contains(recordKey, plan.RestoredDefault, StringComparison.Ordinal);
        Assert.False(restored.Annotations().ContainsKey(recordKey));
    }

    [Fact]
    public void A_release_after_the_user_wrote_over_the_holds_value_leaves_the_spec_alone()
    {
        var review = Review(WorkloadKind.StatefulSet);
        var held = Patched(review, Decide(review));
        held.Strategy()["rollingUpdate"]!["partition"] = 2;

        var plan = HoldReleasePatch.For(WorkloadObject.Of(KubernetesJson.Deserialize<V1StatefulSet>(held.ToJsonString())), (string)held.Annotations()[KwarmApi.HoldAnnotation]!);

        Assert.DoesNotContain(plan.Patch, operation => operation.Path.StartsWith("/spec", StringComparison.Ordinal));
        var restored = JsonPatchApplier.Apply(held, JsonNode.Parse(JsonPatchOperation.SerializeToString(plan.Patch))!.AsArray()).AsObject();
        Assert.Equal(2, (int?)restored.Strategy()["rollingUpdate"]!["partition"]);
    }
}
