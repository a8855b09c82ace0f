using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Workloads;
using static Kwarm.Tests.Admission.WorkloadReviews;

namespace Kwarm.Tests.Admission;

/// <summary>DESIGN §4 per kind (issue #16), for a DaemonSet: the hold switches the strategy to OnDelete and records the user's as JSON.</summary>
public sealed class DaemonSetDecisionTests
{
    private const WorkloadKind Kind = WorkloadKind.DaemonSet;
    private const string ProxyImage = "registry.local/proxy@sha256:0000000000000000000000000000000000000000000000000000000000000001";
    private const string MigrateImage = "registry.local/shop/migrate:1.0";
    private const string Surge = """{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"25%"}}""";
    private static readonly string OldHold = HoldId.For(["registry.local/shop/api:1.0", ProxyImage, MigrateImage]);
    private static readonly string NewHold = HoldId.For(["registry.local/shop/api:1.1", ProxyImage, MigrateImage]);

    private static void AssertHeld(JsonObject review, HoldDecision decision, HoldReason reason, string holdId, string recorded)
    {
        Assert.Equal((reason, true, holdId, Kind), (decision.Reason, decision.Holds, decision.HoldId, decision.Kind));
        var stored = Patched(review, decision);
        Assert.Equal(HoldMechanics.HeldDaemonSetStrategy, stored.Strategy().ToJsonString());
        var annotations = stored.Annotations();
        Assert.Equal((holdId, "default", recorded), ((string?)annotations[KwarmApi.HoldAnnotation], (string?)annotations[KwarmApi.PolicyAnnotation], (string?)annotations[KwarmApi.UpdateStrategyAnnotation]));
    }

    private static void AssertAllowed(HoldDecision decision, HoldReason reason)
    {
        Assert.Equal((reason, false), (decision.Reason, decision.Holds));
        Assert.Empty(decision.Patch);
    }

    [Fact]
    public void Image_change_switches_to_OnDelete_and_records_the_default_strategy_as_compact_JSON()
    {
        var review = Review(Kind);

        var decision = Decide(review);

        AssertHeld(review, decision, HoldReason.ImagesChanged, NewHold, HoldMechanics.DefaultDaemonSetStrategy);
        Assert.Equal(
            """[{"op":"add","path":"/spec/updateStrategy","value":{"type":"OnDelete"}},{"op":"add","path":"/metadata/annotations/kwarm.io~1hold","value":"HOLD"},{"op":"add","path":"/metadata/annotations/kwarm.io~1policy","value":"default"},{"op":"add","path":"/metadata/annotations/kwarm.io~1update-strategy","value":"{\u0022type\u0022:\u0022RollingUpdate\u0022,\u0022rollingUpdate\u0022:{\u0022maxUnavailable\u0022:1,\u0022maxSurge\u0022:0}}"}]""".Replace("HOLD", NewHold, StringComparison.Ordinal),
            JsonPatchOperation.SerializeToString(decision.Patch));
    }

    [Fact]
    public void The_users_own_strategy_is_recorded_exactly_as_the_webhook_saw_it()
    {
        var review = Review(Kind);
        review.NewObject().Spec()["updateStrategy"] = JsonNode.Parse(Surge);

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, Surge);
    }

    [Fact]
    public void A_DaemonSet_without_annotations_gets_the_map_with_all_three()
    {
        var review = Review(Kind);
        review.NewObject()["metadata"]!.AsObject().Remove("annotations");

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, HoldMechanics.DefaultDaemonSetStrategy);
    }

    [Fact]
    public void The_users_OnDelete_is_pre_pulled_without_a_hold()
    {
        var review = Review(Kind);
        review.NewObject().Spec()["updateStrategy"] = JsonNode.Parse("""{"type":"OnDelete"}""");

        AssertAllowed(Decide(review), HoldReason.OnDeleteStrategy);
    }

    [Fact]
    public void A_policy_for_Deployments_only_does_not_hold_DaemonSets()
    {
        var policy = AdmissionFixtures.Policy();
        policy.Spec.Workloads = [WorkloadKind.Deployment];

        AssertAllowed(Decide(Review(Kind), policy), HoldReason.NoMatchingPolicy);
        AssertAllowed(Decide(Review(Kind), AdmissionFixtures.Policy(holdEnabled: false)), HoldReason.HoldDisabled);
    }

    [Fact]
    public void A_full_replace_during_a_hold_gets_the_hold_back_recording_the_new_objects_strategy()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, HoldMechanics.DefaultDaemonSetStrategy);
        var review = Update(Kind, held, replaced =>
        {
            replaced["metadata"]!.AsObject().Remove("annotations");
            replaced.Spec()["updateStrategy"] = JsonNode.Parse(Surge);
        });

        AssertHeld(review, Decide(review), HoldReason.HoldRestored, NewHold, Surge);
    }

    [Fact]
    public void A_strategy_written_over_the_holds_with_the_annotation_kept_is_put_back()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, HoldMechanics.DefaultDaemonSetStrategy);
        var review = Update(Kind, held, patched => patched.Spec()["updateStrategy"] = JsonNode.Parse(Surge));

        AssertHeld(review, Decide(review), HoldReason.HoldRestored, NewHold, Surge);
    }

    [Fact]
    public void Dropped_annotations_with_OnDelete_kept_come_back_with_the_old_record_not_OnDelete()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, Surge);
        var review = Update(Kind, held, patched => patched["metadata"]!.AsObject().Remove("annotations"));

        AssertHeld(review, Decide(review), HoldReason.HoldRestored, NewHold, Surge);
    }

    [Fact]
    public void Kwarms_own_release_is_recognised_by_content()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, Surge);
        var review = Update(Kind, held, released =>
        {
            released.Spec()["updateStrategy"] = JsonNode.Parse(Surge);
            var annotations = released.Annotations();
            annotations.Remove(KwarmApi.HoldAnnotation);
            annotations.Remove(KwarmApi.PolicyAnnotation);
            annotations.Remove(KwarmApi.UpdateStrategyAnnotation);
            annotations[KwarmApi.ReleasedAnnotation] = NewHold;
        });

        AssertAllowed(Decide(review), HoldReason.ReleasedByKwarm);
    }

    [Fact]
    public void An_image_change_during_a_hold_replaces_the_id_and_never_records_OnDelete()
    {
        var review = Review(Kind);
        review.OldObject().MarkHeld(Kind, OldHold, Surge);
        review.NewObject().MarkHeld(Kind, OldHold, Surge);

        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, Surge);

        review.NewObject().Annotations().Remove(KwarmApi.HoldAnnotation);
        review.NewObject().Annotations().Remove(KwarmApi.UpdateStrategyAnnotation);
        AssertHeld(review, Decide(review), HoldReason.ImagesChanged, NewHold, Surge);
    }

    [Fact]
    public void A_steady_hold_is_left_alone_and_a_dry_run_gets_the_same_answer()
    {
        var held = Review(Kind, AdmissionFixtures.LabelOnly).OldObject();
        held.MarkHeld(Kind, NewHold, Surge);
        AssertAllowed(Decide(Update(Kind, held, same => same["metadata"]!["labels"]!["tier"] = "agents")), HoldReason.ImagesUnchanged);

        var dryRun = Review(Kind);
        dryRun.Request()["dryRun"] = true;
        Assert.Equal(JsonPatchOperation.SerializeToString(Decide(Review(Kind)).Patch), JsonPatchOperation.SerializeToString(Decide(dryRun).Patch));
    }
}
