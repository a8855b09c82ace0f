using System.Text.Json.Nodes;
using k8s.Models;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Admission;

/// <summary>
/// DESIGN §4, row by row, each built by editing a real recorded request so that everything the row does not
/// change is exactly what the API server sends.
/// </summary>
public sealed class DecisionTableTests
{
    private const string ProxyImage = "registry.local/proxy@sha256:0000000000000000000000000000000000000000000000000000000000000001";
    private const string MigrateImage = "registry.local/shop/migrate:1.0";

    /// <summary>The image set of the set-image fixture before the change (api:1.0) and after it (api:1.1).</summary>
    private static readonly string OldSetImageHold = HoldId.For(["registry.local/shop/api:1.0", ProxyImage, MigrateImage]);
    private static readonly string NewSetImageHold = HoldId.For(["registry.local/shop/api:1.1", ProxyImage, MigrateImage]);

    /// <summary>The image set of the label-only, rollout-restart and unpause fixtures (unchanged by those requests).</summary>
    private static readonly string SteadyHold = HoldId.For(["registry.local/shop/api:1.1", ProxyImage, MigrateImage]);

    private static HoldDecision Decide(JsonObject review, PrePullPolicy? policy = null) =>
        HoldDecision.Decide(review.ToRequest(), policy ?? AdmissionFixtures.Policy(), AdmissionFixtures.Kwarm);

    private static void AssertHold(JsonObject review, HoldDecision decision, HoldReason reason, string holdId, string policy = "default")
    {
        Assert.Equal(reason, decision.Reason);
        Assert.True(decision.Holds);
        Assert.Equal(holdId, decision.HoldId);
        FixtureDecisionTests.AssertPatchOnlyHolds(review.NewObject(), JsonPatchOperation.Serialize(decision.Patch), holdId, policy);
    }

    private static void AssertAllowed(HoldDecision decision, HoldReason reason)
    {
        Assert.Equal(reason, decision.Reason);
        Assert.False(decision.Holds);
        Assert.Empty(decision.Patch);
    }

    [Fact]
    public void Image_change_on_a_deployment_the_user_had_paused_is_not_held()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.OldObject().Spec()["paused"] = true;
        review.NewObject().Spec()["paused"] = true;

        AssertAllowed(Decide(review), HoldReason.PausedByUser);
    }

    [Fact]
    public void Image_change_that_pauses_in_the_same_request_is_the_users_pause()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.NewObject().Spec()["paused"] = true;

        AssertAllowed(Decide(review), HoldReason.PausedByUser);
    }

    [Fact]
    public void Image_change_with_zero_replicas_is_not_held()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.NewObject().Spec()["replicas"] = 0;

        AssertAllowed(Decide(review), HoldReason.ZeroReplicas);
    }

    [Fact]
    public void Image_change_without_replicas_field_is_held_because_the_default_is_one()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.NewObject().Spec().Remove("replicas");

        AssertHold(review, Decide(review), HoldReason.ImagesChanged, NewSetImageHold);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("yes", false)]
    public void Skip_annotation_true_leaves_the_deployment_alone(string value, bool skipped)
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.NewObject().Annotations()[KwarmApi.SkipAnnotation] = value;

        var decision = Decide(review);

        if (skipped)
        {
            AssertAllowed(decision, HoldReason.SkipAnnotation);
        }
        else
        {
            AssertHold(review, decision, HoldReason.ImagesChanged, NewSetImageHold);
        }
    }

    [Fact]
    public void Image_change_during_a_hold_replaces_the_hold_id()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.OldObject().MarkHeld(OldSetImageHold);
        review.NewObject().MarkHeld(OldSetImageHold); // an update keeps fields it does not mention

        var decision = Decide(review);

        Assert.NotEqual(OldSetImageHold, NewSetImageHold);
        AssertHold(review, decision, HoldReason.ImagesChanged, NewSetImageHold);
    }

    [Fact]
    public void Image_change_by_full_replace_during_a_hold_is_held_with_the_new_id()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.OldObject().MarkHeld(OldSetImageHold);

        AssertHold(review, Decide(review), HoldReason.ImagesChanged, NewSetImageHold);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0123456789ab")]
    public void Full_replace_that_drops_an_active_hold_gets_it_put_back(string? staleReleasedId)
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        review.OldObject().MarkHeld(SteadyHold, policy: "earlier-policy");
        if (staleReleasedId is not null)
        {
            review.NewObject().Annotations()[KwarmApi.ReleasedAnnotation] = staleReleasedId;
        }

        // The old hold id is kept (the controller's PrePullImages carry it); the policy is the one selecting it now.
        AssertHold(review, Decide(review), HoldReason.HoldRestored, SteadyHold);
    }

    [Theory]
    [InlineData(AdmissionFixtures.LabelOnly, true)]
    [InlineData(AdmissionFixtures.LabelOnly, false)]
    [InlineData(AdmissionFixtures.SetImage, true)]
    public void Full_replace_during_a_hold_carries_the_recorded_start_over_from_the_old_object(string fixture, bool withAnnotationsMap)
    {
        var review = AdmissionFixtures.Review(fixture);
        review.OldObject().MarkHeld(SteadyHold);
        const string Started = "1a2b3c4d5e6f@2026-12-04T03:40:12Z";
        review.OldObject().Annotations()[KwarmApi.HoldStartedAnnotation] = Started;
        if (!withAnnotationsMap)
        {
            review.NewObject()["metadata"]!.AsObject().Remove("annotations");
        }

        var decision = Decide(review);
        var patched = JsonPatchApplier.Apply(review.NewObject(), JsonNode.Parse(JsonPatchOperation.Serialize(decision.Patch))!.AsArray()).AsObject();

        // Copied, not made up: the deadline (and, for an image change, the superseded hold's HoldReleased) depends on it.
        Assert.True(decision.Holds);
        Assert.Equal(Started, patched.Annotations()[KwarmApi.HoldStartedAnnotation]!.GetValue<string>());
        Assert.True(patched.Spec()["paused"]!.GetValue<bool>());
    }

    [Fact]
    public void An_update_that_keeps_the_recorded_start_gets_no_copy_of_it()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.OldObject().MarkHeld(OldSetImageHold);
        review.NewObject().MarkHeld(OldSetImageHold);
        review.OldObject().Annotations()[KwarmApi.HoldStartedAnnotation] = OldSetImageHold + "@2026-12-04T03:40:12Z";
        review.NewObject().Annotations()[KwarmApi.HoldStartedAnnotation] = OldSetImageHold + "@2026-12-04T03:40:12Z";

        AssertHold(review, Decide(review), HoldReason.ImagesChanged, NewSetImageHold);
    }

    [Fact]
    public void Full_replace_of_a_deployment_without_annotations_recreates_the_map()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        review.OldObject().MarkHeld(SteadyHold);
        review.NewObject()["metadata"]!.AsObject().Remove("annotations");

        var decision = Decide(review);

        AssertHold(review, decision, HoldReason.HoldRestored, SteadyHold);
        Assert.Equal("/metadata/annotations", decision.Patch[1].Path);
    }

    [Fact]
    public void Kwarms_release_patch_is_left_alone_whoever_sends_it()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.UnpausePatch);
        review.OldObject().MarkHeld(SteadyHold);
        var released = review.NewObject();
        released.Spec().Remove("paused");
        released.Annotations()[KwarmApi.ReleasedAnnotation] = SteadyHold;
        Assert.Equal("admin", (string?)review.Request()["userInfo"]!["username"]); // recognised by content, not identity

        AssertAllowed(Decide(review), HoldReason.ReleasedByKwarm);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rollout_resume_during_a_hold_is_left_alone(bool explicitFalse)
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.UnpausePatch);
        review.OldObject().MarkHeld(SteadyHold);
        review.NewObject().MarkHeld(SteadyHold);
        if (explicitFalse)
        {
            review.NewObject().Spec()["paused"] = false;
        }
        else
        {
            review.NewObject().Spec().Remove("paused"); // what the API server really sends: paused false is omitted
        }

        AssertAllowed(Decide(review), HoldReason.ResumedDuringHold);
    }

    [Fact]
    public void Update_that_keeps_an_active_hold_is_not_patched_again()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        review.OldObject().MarkHeld(SteadyHold);
        review.NewObject().MarkHeld(SteadyHold);

        AssertAllowed(Decide(review), HoldReason.ImagesUnchanged);
    }

    [Fact]
    public void Init_container_only_change_is_held()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        review.NewObject().PodSpec()["initContainers"]![0]!["image"] = "registry.local/shop/migrate:1.1";

        AssertHold(review, Decide(review), HoldReason.ImagesChanged, HoldId.For(["registry.local/shop/api:1.1", ProxyImage, "registry.local/shop/migrate:1.1"]));
    }

    [Fact]
    public void Reordered_containers_with_the_same_images_are_not_held()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        var containers = review.NewObject().PodSpec()["containers"]!.AsArray();
        var first = containers[0]!.DeepClone();
        containers.RemoveAt(0);
        containers.Add(first);
        Assert.Equal(ProxyImage, (string?)containers[0]!["image"]);

        AssertAllowed(Decide(review), HoldReason.ImagesUnchanged);
    }

    [Fact]
    public void The_same_image_written_fully_qualified_is_not_an_image_change()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        review.OldObject().PodSpec()["containers"]![0]!["image"] = "docker.io/library/nginx:1.27.1";
        review.NewObject().PodSpec()["containers"]![0]!["image"] = "nginx:1.27.1";

        AssertAllowed(Decide(review), HoldReason.ImagesUnchanged);
    }

    [Fact]
    public void A_hold_id_is_the_same_for_an_image_set_however_its_references_are_written()
    {
        var written = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        written.NewObject().PodSpec()["containers"]![0]!["image"] = "nginx:1.27.1";
        var qualified = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        qualified.NewObject().PodSpec()["containers"]![0]!["image"] = "index.docker.io/library/nginx:1.27.1";

        var first = Decide(written);
        Assert.Equal(HoldReason.ImagesChanged, first.Reason);
        Assert.Equal(first.HoldId, Decide(qualified).HoldId);
        Assert.Equal(HoldId.For(["docker.io/library/nginx:1.27.1", ProxyImage, MigrateImage]), first.HoldId);
    }

    [Theory]
    [InlineData("nginx:")]
    [InlineData("UPPER/Case Image::tag@@sha")]
    public void An_unparsable_image_is_let_through_unheld_with_a_warning_saying_why(string image)
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        review.NewObject().PodSpec()["containers"]![0]!["image"] = image;

        var decision = Decide(review);

        AssertAllowed(decision, HoldReason.UnparsableImage);
        Assert.StartsWith("kwarm: not held: ", decision.Warning, StringComparison.Ordinal);
        Assert.Contains("not a valid image reference", decision.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Images_are_compared_as_a_set_across_containers_and_init_containers()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        var podSpec = review.NewObject().PodSpec();
        // The same image now used by a second container and moved between lists: still the same set.
        podSpec["initContainers"]!.AsArray().Add(new JsonObject { ["name"] = "warm", ["image"] = ProxyImage });

        AssertAllowed(Decide(review), HoldReason.ImagesUnchanged);
    }

    [Fact]
    public void Kwarms_own_service_account_passes_unchanged()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.Request()["userInfo"]!["username"] = "system:serviceaccount:kwarm-system:kwarm";

        AssertAllowed(Decide(review), HoldReason.KwarmIdentity);
    }

    [Fact]
    public void Another_service_account_in_kwarms_namespace_is_not_kwarm()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.Request()["userInfo"]!["username"] = "system:serviceaccount:kwarm-system:deployer";

        AssertHold(review, Decide(review), HoldReason.ImagesChanged, NewSetImageHold);
    }

    [Fact]
    public void Policy_with_hold_disabled_never_patches()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        AssertAllowed(Decide(review, AdmissionFixtures.Policy(holdEnabled: false)), HoldReason.HoldDisabled);

        var replaced = AdmissionFixtures.Review(AdmissionFixtures.LabelOnly);
        replaced.OldObject().MarkHeld(SteadyHold);
        AssertAllowed(Decide(replaced, AdmissionFixtures.Policy(holdEnabled: false)), HoldReason.HoldDisabled);
    }

    [Fact]
    public void No_policy_means_no_patch()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);

        AssertAllowed(HoldDecision.Decide(review.ToRequest(), policy: null, AdmissionFixtures.Kwarm), HoldReason.NoMatchingPolicy);
    }

    [Fact]
    public void Scale_subresource_is_never_held_even_with_a_policy()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.ScaleSubresource);

        AssertAllowed(Decide(review), HoldReason.Subresource);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("CONNECT")]
    public void Operations_other_than_create_and_update_pass(string operation)
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.Request()["operation"] = operation;

        AssertAllowed(Decide(review), HoldReason.UnsupportedOperation);
    }

    [Fact]
    public void Create_with_hold_on_create_respects_zero_replicas_and_a_users_pause()
    {
        var policy = AdmissionFixtures.Policy(onCreate: true);
        var zero = AdmissionFixtures.Review(AdmissionFixtures.CreateClientSideApply);
        zero.NewObject().Spec()["replicas"] = 0;
        AssertAllowed(Decide(zero, policy), HoldReason.ZeroReplicas);

        var paused = AdmissionFixtures.Review(AdmissionFixtures.CreateClientSideApply);
        paused.NewObject().Spec()["paused"] = true;
        AssertAllowed(Decide(paused, policy), HoldReason.PausedByUser);
    }

    [Fact]
    public void Same_request_always_gets_the_same_patch_bytes()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);

        var first = JsonPatchOperation.Serialize(Decide(review).Patch);
        var second = JsonPatchOperation.Serialize(Decide(AdmissionFixtures.Review(AdmissionFixtures.SetImage)).Patch);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Reinvocation_after_kwarms_own_patch_gives_the_same_patch()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        var first = Decide(review);
        var patched = JsonPatchApplier.Apply(review.NewObject(), JsonNode.Parse(JsonPatchOperation.Serialize(first.Patch))!.AsArray());
        review.Request()["object"] = patched;

        var second = Decide(review);

        Assert.Equal(HoldReason.ImagesChanged, second.Reason);
        Assert.Equal(JsonPatchOperation.Serialize(first.Patch), JsonPatchOperation.Serialize(second.Patch));
    }

    [Fact]
    public void Reinvocation_after_another_webhook_rewrote_an_image_holds_the_rewritten_set()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        var first = Decide(review);
        var patched = JsonPatchApplier.Apply(review.NewObject(), JsonNode.Parse(JsonPatchOperation.Serialize(first.Patch))!.AsArray()).AsObject();
        patched.PodSpec()["containers"]![0]!["image"] = "mirror.local/shop/api:1.1";
        review.Request()["object"] = patched;

        var second = Decide(review);

        Assert.Equal(HoldId.For(["mirror.local/shop/api:1.1", ProxyImage, MigrateImage]), second.HoldId);
        Assert.NotEqual(first.HoldId, second.HoldId);
    }
}
