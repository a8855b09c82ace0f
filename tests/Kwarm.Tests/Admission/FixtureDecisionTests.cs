using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Admission;

/// <summary>Each recorded request, sent unchanged through the reviewer, gets the answer DESIGN §4 asks for.</summary>
public sealed class FixtureDecisionTests
{
    private static readonly InMemoryPolicyCatalog DefaultCatalog = CatalogWith(AdmissionFixtures.Policy());

    [Fact]
    public void Every_recorded_deployment_carries_the_opt_in_label()
    {
        // The test policy selects kwarm.io/enabled=true; this guards that choice against the recordings.
        foreach (var name in AdmissionFixtures.All.Where(name => name != AdmissionFixtures.ScaleSubresource))
        {
            var labels = AdmissionFixtures.Review(name).NewObject()["metadata"]!["labels"]!.AsObject();
            Assert.Equal("true", (string?)labels[KwarmApi.EnabledLabel]);
        }
    }

    [Theory]
    [InlineData(AdmissionFixtures.SetImage, "4c16d0a08e9d")]
    [InlineData(AdmissionFixtures.ServerSideApplyNewImage, "b78d53c3fed6")]
    public void Image_change_is_held_and_the_patch_changes_nothing_else(string fixture, string expectedHoldId)
    {
        // The expected ids are sha256 of the newline-joined, sorted image set, first 12 hex digits, computed outside .NET.
        var outcome = Review(fixture);

        Assert.Equal(HoldReason.ImagesChanged, outcome.Decision!.Reason);
        var response = ResponseOf(outcome);
        Assert.Equal(AdmissionFixtures.Review(fixture).Request()["uid"]!.GetValue<string>(), response.Uid);
        Assert.True(response.Allowed);
        Assert.Equal("JSONPatch", response.PatchType);
        AssertPatchOnlyHolds(AdmissionFixtures.Review(fixture).NewObject(), response.Patch!, expectedHoldId, "default");
    }

    [Theory]
    [InlineData(AdmissionFixtures.ScaleSubresource, HoldReason.Subresource)]
    [InlineData(AdmissionFixtures.RolloutRestart, HoldReason.ImagesUnchanged)]
    [InlineData(AdmissionFixtures.LabelOnly, HoldReason.ImagesUnchanged)]
    [InlineData(AdmissionFixtures.UnpausePatch, HoldReason.ImagesUnchanged)]
    [InlineData(AdmissionFixtures.CreateClientSideApply, HoldReason.CreateWithoutHoldOnCreate)]
    [InlineData(AdmissionFixtures.CreateServerSideApply, HoldReason.CreateWithoutHoldOnCreate)]
    public void Request_without_image_change_is_allowed_unchanged(string fixture, HoldReason expected)
    {
        var outcome = Review(fixture);

        Assert.Equal(expected, outcome.Decision!.Reason);
        var response = ResponseOf(outcome);
        Assert.Equal(AdmissionFixtures.Review(fixture).Request()["uid"]!.GetValue<string>(), response.Uid);
        Assert.True(response.Allowed);
        Assert.Null(response.Patch);
        Assert.Null(response.PatchType);
    }

    [Fact]
    public void Dry_run_gets_the_same_patch_as_the_real_request()
    {
        var dryRun = AdmissionFixtures.Review(AdmissionFixtures.SetImageDryRun);
        Assert.True(dryRun.Request()["dryRun"]!.GetValue<bool>());
        var real = AdmissionFixtures.Review(AdmissionFixtures.SetImageDryRun);
        real.Request()["dryRun"] = false;
        real.Request()["options"]!.AsObject().Remove("dryRun");

        var dryPatch = ResponseOf(Review(AdmissionFixtures.SetImageDryRun)).Patch!;
        var realPatch = ResponseOf(new AdmissionReviewer(DefaultCatalog, AdmissionFixtures.Kwarm).Review(real.ToBytes())).Patch!;

        Assert.Equal(realPatch, dryPatch);
        AssertPatchOnlyHolds(dryRun.NewObject(), dryPatch, HoldId.For(["registry.local/shop/api:1.2",
            "registry.local/proxy@sha256:0000000000000000000000000000000000000000000000000000000000000001", "registry.local/shop/migrate:1.0"]), "default");
    }

    [Theory]
    [InlineData(AdmissionFixtures.CreateClientSideApply)]
    [InlineData(AdmissionFixtures.CreateServerSideApply)]
    public void Create_is_held_when_the_policy_asks_for_it(string fixture)
    {
        var catalog = CatalogWith(AdmissionFixtures.Policy(name: "on-create", onCreate: true));
        var outcome = new AdmissionReviewer(catalog, AdmissionFixtures.Kwarm).Review(AdmissionFixtures.Bytes(fixture));

        Assert.Equal(HoldReason.ImagesChanged, outcome.Decision!.Reason);
        var deployment = AdmissionFixtures.Review(fixture).NewObject();
        var images = deployment.PodSpec()["containers"]!.AsArray().Concat(deployment.PodSpec()["initContainers"]?.AsArray() ?? [])
            .Select(container => (string)container!["image"]!);
        AssertPatchOnlyHolds(deployment, ResponseOf(outcome).Patch!, HoldId.For(images), "on-create");
    }

    [Fact]
    public void Server_side_apply_create_without_annotations_gets_the_map_created()
    {
        var deployment = AdmissionFixtures.Review(AdmissionFixtures.CreateServerSideApply).NewObject();
        Assert.Null(deployment["metadata"]!["annotations"]);
        var catalog = CatalogWith(AdmissionFixtures.Policy(onCreate: true));

        var patch = JsonNode.Parse(ResponseOf(new AdmissionReviewer(catalog, AdmissionFixtures.Kwarm)
            .Review(AdmissionFixtures.Bytes(AdmissionFixtures.CreateServerSideApply))).Patch!)!.AsArray();

        Assert.Equal(2, patch.Count);
        Assert.Equal("/metadata/annotations", (string?)patch[1]!["path"]);
        Assert.Equal("b78d53c3fed6".Length, ((string?)patch[1]!["value"]![KwarmApi.HoldAnnotation])!.Length);
    }

    [Fact]
    public void Patch_escapes_the_slash_of_annotation_keys()
    {
        var patch = JsonNode.Parse(ResponseOf(Review(AdmissionFixtures.SetImage)).Patch!)!.AsArray();

        Assert.Equal(
            ["/spec/paused", "/metadata/annotations/kwarm.io~1hold", "/metadata/annotations/kwarm.io~1policy"],
            patch.Select(operation => (string)operation!["path"]!));
        Assert.All(patch, operation => Assert.Equal("add", (string?)operation!["op"]));
    }

    internal static ReviewOutcome Review(string fixture) =>
        new AdmissionReviewer(DefaultCatalog, AdmissionFixtures.Kwarm).Review(AdmissionFixtures.Bytes(fixture));

    internal static InMemoryPolicyCatalog CatalogWith(params PrePullPolicy[] policies)
    {
        var catalog = new InMemoryPolicyCatalog();
        catalog.Replace(policies);
        return catalog;
    }

    internal static AdmissionResponse ResponseOf(ReviewOutcome outcome)
    {
        Assert.Null(outcome.Error);
        var review = JsonSerializer.Deserialize(outcome.ResponseBody, AdmissionJsonContext.Default.AdmissionReview)!;
        Assert.Equal("admission.k8s.io/v1", review.ApiVersion);
        Assert.Equal("AdmissionReview", review.Kind);
        Assert.Null(review.Request);
        return review.Response!;
    }

    /// <summary>
    /// Applies the webhook's patch to the object as the API server would, then checks the result is exactly the
    /// original plus <c>spec.paused: true</c> and the two hold annotations: same members, same order, same bytes.
    /// </summary>
    internal static void AssertPatchOnlyHolds(JsonObject original, byte[] patch, string holdId, string policy)
    {
        var patched = JsonPatchApplier.Apply(original, JsonNode.Parse(patch)!.AsArray()).AsObject();

        Assert.True(patched.Spec()["paused"]!.GetValue<bool>());
        var annotations = patched["metadata"]!["annotations"]!.AsObject();
        Assert.Equal(holdId, (string?)annotations[KwarmApi.HoldAnnotation]);
        Assert.Equal(policy, (string?)annotations[KwarmApi.PolicyAnnotation]);

        var expected = original.DeepClone().AsObject();
        expected.Spec()["paused"] = true;
        expected.Annotations()[KwarmApi.HoldAnnotation] = holdId;
        expected.Annotations()[KwarmApi.PolicyAnnotation] = policy;
        Assert.Equal(expected.ToJsonString(), patched.ToJsonString());

        // And back: without the three additions the patched object is the original, byte for byte.
        var originalAnnotations = original["metadata"]!["annotations"] as JsonObject;
        Restore(patched.Spec(), original.Spec(), "paused");
        Restore(annotations, originalAnnotations, KwarmApi.HoldAnnotation);
        Restore(annotations, originalAnnotations, KwarmApi.PolicyAnnotation);
        if (originalAnnotations is null)
        {
            patched["metadata"]!.AsObject().Remove("annotations");
        }

        Assert.Equal(original.ToJsonString(), patched.ToJsonString());
    }

    private static void Restore(JsonObject patched, JsonObject? original, string key)
    {
        if (original is not null && original.TryGetPropertyValue(key, out var value))
        {
            patched[key] = value?.DeepClone();
        }
        else
        {
            patched.Remove(key);
        }
    }
}

/// <summary>The in-place envelope reader of the webhook and the records' serializer agree on every recorded request.</summary>
public sealed class AdmissionReviewReaderTests
{
    public static TheoryData<string> Fixtures => [.. AdmissionFixtures.All];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Reader_and_serializer_read_the_same_request(string fixture)
    {
        var bytes = AdmissionFixtures.Bytes(fixture);
        var serialized = JsonSerializer.Deserialize(bytes, AdmissionJsonContext.Default.AdmissionReview)!.Request!;
        using var document = JsonDocument.Parse(bytes);

        var read = AdmissionReviewReader.ReadRequest(document.RootElement.GetProperty("request"));

        Assert.Equal(serialized.Uid, read.Uid);
        Assert.Equal(serialized.Kind, read.Kind);
        Assert.Equal(serialized.Resource, read.Resource);
        Assert.Equal(serialized.SubResource, read.SubResource);
        Assert.Equal(serialized.RequestKind, read.RequestKind);
        Assert.Equal(serialized.RequestResource, read.RequestResource);
        Assert.Equal(serialized.RequestSubResource, read.RequestSubResource);
        Assert.Equal(serialized.Name, read.Name);
        Assert.Equal(serialized.Namespace, read.Namespace);
        Assert.Equal(serialized.Operation, read.Operation);
        Assert.Equal(serialized.DryRun, read.DryRun);
        Assert.Equal(serialized.UserInfo!.Username, read.UserInfo!.Username);
        Assert.Equal(serialized.UserInfo.Groups, read.UserInfo.Groups);
        Assert.Equal(serialized.Object?.GetRawText(), read.Object?.GetRawText());
        Assert.Equal(serialized.OldObject?.GetRawText(), read.OldObject?.GetRawText());
        Assert.Equal(serialized.Options?.GetRawText(), read.Options?.GetRawText());
        Assert.NotNull(read.Object);
    }

    [Fact]
    public void Records_round_trip_through_the_serializer_without_losing_the_objects()
    {
        var bytes = AdmissionFixtures.Bytes(AdmissionFixtures.SetImage);
        var review = JsonSerializer.Deserialize(bytes, AdmissionJsonContext.Default.AdmissionReview)!;

        var written = JsonSerializer.SerializeToUtf8Bytes(review, AdmissionJsonContext.Default.AdmissionReview);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(bytes), JsonNode.Parse(written)));
    }
}
