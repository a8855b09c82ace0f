using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Workloads;
using static Kwarm.Tests.Admission.WorkloadReviews;

namespace Kwarm.Tests.Admission;

/// <summary>DESIGN §4 per kind (issue #16), for a StatefulSet: the hold raises the partition to 2147483647 and records the user's.</summary>
public sealed class StatefulSetDecisionTests
{
    private const WorkloadKind Kind = WorkloadKind.StatefulSet;
    private const string ProxyImage = "registry.local/proxy@sha256:0000000000000000000000000000000000000000000000000000000000000001";
    private const string MigrateImage = "registry.local/shop/migrate:1.0";
    private static readonly string OldHold = HoldId.For(["registry.local/shop/api:1.0", ProxyImage, MigrateImage]);
    private static readonly string NewHold = HoldId.For(["registry.local/shop/api:1.1", ProxyImage, MigrateImage]);

    private static int? PartitionOf(JsonObject workload) => (int?)workload.Strategy()["rollingUpdate"]?["partition"];

    private static void AssertHeld(JsonObject review, HoldDecision decision, HoldReason reason, string holdId, string recorded)
    {
        Assert.Equal((reason, true, holdId, Kind), (decision.Reason, decision.Holds, decision.HoldId, decision.Kind));
        var stored = Patched(review, decision);
        Assert.Equal(HoldMechanics.HeldPartition, PartitionOf(stored));
        Assert.Equal(HoldMechanics.RollingUpdate, (string?)stored.Strategy()["type"]);
        var annotations = stored.Annotations();
        Assert.Equal((holdId, "default", recorded), ((string?)annotations[KwarmApi.HoldAnnotation], (string?)annotations[KwarmApi.PolicyAnnotation], (string?)annotations[KwarmApi.PartitionAnnotation]));
        // Nothing but the partition and the annotations changes.
        stored.Strategy()["rollingUpdate"]!.AsObject().Remove("partition");
        var expected = (JsonObject)review.NewObject().DeepClone();
        expected.Strategy()["rollingUpdate"]?.AsObject().Remove("partition");
        foreach (var key in new[] { KwarmApi.HoldAnnotation, KwarmApi.PolicyAnnotation, KwarmApi.PartitionAnnotation, KwarmApi.HoldStartedAnnotation })
        {
            stored.Annotations().Remove(key);
            expected.Annotations().Remove(key);
        }

        if (expected.Strategy()["rollingUpdate"] is null)
        {
            stored.Strategy().Remove("rollingUpdate");
        }

        Assert.True(JsonNode.DeepEquals(expected, stored), stored.ToJsonString());
    }

    private static void AssertAllowed(HoldDecision decision, HoldReason reason)
    {
        Assert.Equal((reason, false), (decision.Reason, decision.Holds));
        Assert.Empty(decision.Patch);
    }

    [Fact]
    public void Image_change_raises_the_partition_and_records_the_default_partition_0()
    {
        var review = Review(Kind);

        var decision = Decide(review);

        AssertHeld(review, decision, HoldReason.ImagesChanged, NewHold, "0");
        Assert.Equal(
            $$"""[{"op":"add","path":"/spec/updateStrategy/rollingUpdate/partition","value":2147483647},{"op":"add","path":"/metadata/annotations/kwarm.io~1hold","value":"{{NewHold}}"},{"op":"add","path":"/metadata/annotations/kwarm.io~1policy","value":"default"},{"op":"add","path":"/metadata/annotations/kwarm.io~1partition","value":"0"}]""",
            JsonPatchOperation.SerializeToString(decision.Patch));
    }

    [Fact]
    public void A_user_partition_is_recorded_as_the_number()
    {
        var review = Review(Kind);
        review.NewObject().Strategy()["rollingUpdate"]!["partition"] = 1;

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, "1");
    }

    [Fact]
    public void Without_rollingUpdate_the_patch_adds_it_and_records_none()
    {
        var review = Review(Kind);
        review.NewObject().Strategy().Remove("rollingUpdate");

        var decision = Decide(review);

        AssertHeld(review, decision, HoldReason.ImagesChanged, NewHold, HoldMechanics.NoPartition);
        Assert.Equal("""{"op":"add","path":"/spec/updateStrategy/rollingUpdate","value":{"partition":2147483647}}""", JsonPatchOperation.SerializeToString([decision.Patch[0]])[1..^1]);
    }

    [Fact]
    public void A_rollingUpdate_without_partition_gets_the_field_and_records_none()
    {
        var review = Review(Kind);
        review.NewObject().Strategy()["rollingUpdate"]!.AsObject().Remove("partition");

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, HoldMechanics.NoPartition);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(5, 3)]
    [InlineData(1, null)]
    public void A_partition_at_or_above_the_replicas_without_a_hold_is_the_users_staging_and_not_held(int partition, int? replicas)
    {
        var review = Review(Kind);
        review.NewObject().Strategy()["rollingUpdate"]!["partition"] = partition;
        if (replicas is null)
        {
            review.NewObject().Spec().Remove("replicas");
        }

        AssertAllowed(Decide(review), HoldReason.PartitionedByUser);
    }

    [Fact]
    public void A_partition_below_the_replicas_is_held()
    {
        var review = Review(Kind);
        review.NewObject().Strategy()["rollingUpdate"]!["partition"] = 2;

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, "2");
    }

    [Fact]
    public void OnDelete_is_pre_pulled_without_a_hold()
    {
        var review = Review(Kind);
        review.NewObject().Spec()["updateStrategy"] = JsonNode.Parse("""{"type":"OnDelete"}""");

        AssertAllowed(Decide(review), HoldReason.OnDeleteStrategy);
    }

    [Fact]
    public void Zero_replicas_disabled_hold_and_a_create_without_onCreate_are_not_held()
    {
        var zero = Review(Kind);
        zero.NewObject().Spec()["replicas"] = 0;
        AssertAllowed(Decide(zero), HoldReason.ZeroReplicas);

        AssertAllowed(Decide(Review(Kind), AdmissionFixtures.Policy(holdEnabled: false)), HoldReason.HoldDisabled);

        var create = Review(Kind, AdmissionFixtures.CreateClientSideApply);
        AssertAllowed(Decide(create), HoldReason.CreateWithoutHoldOnCreate);
        Assert.True(Decide(create, AdmissionFixtures.Policy(onCreate: true)).Holds);
    }

    [Fact]
    public void A_policy_whose_workloads_leave_out_StatefulSet_does_not_apply()
    {
        var policy = AdmissionFixtures.Policy();
        policy.Spec.Workloads = [WorkloadKind.Deployment, WorkloadKind.DaemonSet];

        AssertAllowed(Decide(Review(Kind), policy), HoldReason.NoMatchingPolicy);
    }

    [Fact]
    public void A_full_replace_during_a_hold_gets_the_hold_back_recording_the_new_objects_partition()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, "1");
        var review = Update(Kind, held, replaced =>
        {
            replaced["metadata"]!.AsObject().Remove("annotations");
            replaced.Spec()["updateStrategy"] = JsonNode.Parse("""{"type":"RollingUpdate","rollingUpdate":{"partition":2}}""");
        });

        AssertHeld(review, Decide(review), HoldReason.HoldRestored, NewHold, "2");
    }

    [Fact]
    public void A_partition_written_over_the_holds_with_the_annotation_kept_is_put_back_too()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, "1");
        var review = Update(Kind, held, patched => patched.Strategy()["rollingUpdate"]!["partition"] = 0);

        AssertHeld(review, Decide(review), HoldReason.HoldRestored, NewHold, "0");
    }

    [Fact]
    public void An_update_that_keeps_the_partition_but_drops_the_annotations_gets_them_back_with_the_old_record()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, "1");
        var review = Update(Kind, held, patched => patched["metadata"]!.AsObject().Remove("annotations"));

        AssertHeld(review, Decide(review), HoldReason.HoldRestored, NewHold, "1");
    }

    [Fact]
    public void Kwarms_own_release_is_recognised_by_content_and_a_stale_released_id_is_not()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, "1");
        JsonObject Released(string id) => Update(Kind, held, released =>
        {
            released.Strategy()["rollingUpdate"]!["partition"] = 1;
            var annotations = released.Annotations();
            annotations.Remove(KwarmApi.HoldAnnotation);
            annotations.Remove(KwarmApi.PolicyAnnotation);
            annotations.Remove(KwarmApi.PartitionAnnotation);
            annotations[KwarmApi.ReleasedAnnotation] = id;
        });

        AssertAllowed(Decide(Released(NewHold)), HoldReason.ReleasedByKwarm);
        var stale = Released("0123456789ab");
        AssertHeld(stale, Decide(stale), HoldReason.HoldRestored, NewHold, "1");
    }

    [Fact]
    public void An_image_change_during_a_hold_replaces_the_id_and_keeps_the_recorded_partition()
    {
        var review = Review(Kind);
        review.OldObject().MarkHeld(Kind, OldHold, "1");
        review.NewObject().MarkHeld(Kind, OldHold, "1");

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, "1");
    }

    [Fact]
    public void An_image_change_that_dropped_the_record_takes_it_from_the_old_object_never_the_held_partition()
    {
        var review = Review(Kind);
        review.OldObject().MarkHeld(Kind, OldHold, "none");
        review.NewObject().MarkHeld(Kind, OldHold, "ignored");
        review.NewObject().Annotations().Remove(KwarmApi.PartitionAnnotation);

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, "none");
    }

    [Fact]
    public void A_switch_to_OnDelete_during_a_hold_is_left_to_the_controller()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, "1");
        var review = Update(Kind, held, changed => changed.Spec()["updateStrategy"] = JsonNode.Parse("""{"type":"OnDelete"}"""));

        AssertAllowed(Decide(review), HoldReason.OnDeleteStrategy);
    }

    [Fact]
    public void A_label_only_update_without_a_hold_is_allowed_and_a_dry_run_gets_the_same_patch()
    {
        AssertAllowed(Decide(Review(Kind, AdmissionFixtures.LabelOnly)), HoldReason.ImagesUnchanged);

        var real = Review(Kind);
        var dryRun = Review(Kind);
        dryRun.Request()["dryRun"] = true;
        Assert.Equal(JsonPatchOperation.SerializeToString(Decide(real).Patch), JsonPatchOperation.SerializeToString(Decide(dryRun).Patch));
    }
}
