using Kwarm.Admission;
using Kwarm.Holds;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Holds;

public sealed class HoldReconcilerTests : IDisposable
{
    private const string Web = "web";
    private static readonly string[] NewImages = ["registry.example/shop/web:2.0", "registry.example/shop/sidecar:1.4"];
    private readonly HoldWorld _world = new();

    public HoldReconcilerTests() => _world.AddPolicy("default");

    public void Dispose() => _world.Dispose();

    private static string Key => ResourceKeys.For(HoldWorld.Namespace, Web);

    private static string HoldOf(string[] images) => HoldId.For(images);

    [Fact]
    public async Task A_new_hold_gets_one_PrePullImage_per_distinct_image_and_waits_until_maxDuration()
    {
        _world.AddHeldDeployment(Web, [NewImages[0], NewImages[1], NewImages[0]], initImages: ["registry.example/tools/migrate:7"]);

        var result = await _world.NewReconciler().ReconcileAsync(Key, TestContext.Current.CancellationToken);

        var images = _world.ImagesOf(Web);
        Assert.Equal(["registry.example/shop/sidecar:1.4", "registry.example/shop/web:2.0", "registry.example/tools/migrate:7"], images.Select(i => i.Spec.Image));
        var hold = _world.Deployment(Web).Metadata.Annotations[KwarmApi.HoldAnnotation];
        Assert.All(images, image =>
        {
            Assert.Equal(hold, image.Metadata.Labels[KwarmApi.HoldLabel]);
            Assert.Equal(Web, image.Metadata.Labels[KwarmApi.DeploymentLabel]);
            var owner = Assert.Single(image.Metadata.OwnerReferences);
            Assert.Equal(("Deployment", Web, "uid-web", true), (owner.Kind, owner.Name, owner.Uid, owner.Controller));
        });
        Assert.Equal(TimeSpan.FromMinutes(15), result.RequeueAfter);
        // The only write to the Deployment records the hold's start, conditional on the hold id.
        Assert.Equal(
            $$"""[{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"{{hold}}"},{"op":"add","path":"/metadata/annotations/kwarm.io~1hold-started","value":"{{hold}}@2026-03-01T09:00:00Z"}]""",
            JsonPatchOperation.SerializeToString(Assert.Single(_world.Api.Patches)));
        Assert.True(_world.Deployment(Web).Spec.Paused);
        var started = Assert.Single(_world.Api.Events);
        Assert.Equal((HoldEvents.HoldStarted, "kwarm", "kwarm"), (started.Reason, started.Source.Component, started.ReportingComponent));
    }

    [Fact]
    public async Task Releases_as_Warm_when_every_PrePullImage_completed_with_one_patch_that_tests_the_hold_id()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.Time.Advance(TimeSpan.FromSeconds(40));
        _world.SetPhase(_world.ImagesOf(Web)[0], PrePullImagePhase.Completed);

        var waiting = await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.Single(_world.Api.Patches); // the start record only
        Assert.Equal(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(40), waiting.RequeueAfter);

        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        var released = await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Null(released.RequeueAfter);
        var hold = HoldOf(NewImages);
        Assert.Equal(
            $$"""[{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"{{hold}}"},{"op":"replace","path":"/spec/paused","value":false},{"op":"remove","path":"/metadata/annotations/kwarm.io~1hold"},{"op":"remove","path":"/metadata/annotations/kwarm.io~1policy"},{"op":"remove","path":"/metadata/annotations/kwarm.io~1hold-started"},{"op":"add","path":"/metadata/annotations/kwarm.io~1released","value":"{{hold}}"}]""",
            JsonPatchOperation.SerializeToString(_world.Api.Patches[^1]));
        Assert.Equal(2, _world.Api.Patches.Count);
        var deployment = _world.Deployment(Web);
        Assert.False(deployment.Spec.Paused);
        Assert.Equal(new Dictionary<string, string> { [KwarmApi.ReleasedAnnotation] = hold }, deployment.Metadata.Annotations);
        var releasedEvent = _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased);
        Assert.Equal("Warm", releasedEvent.Action);
        Assert.Contains("(Warm)", releasedEvent.Message, StringComparison.Ordinal);
        var duration = Assert.Single(_world.HoldDurations);
        Assert.Equal(("Warm", 40d), (duration.Reason, duration.Seconds));
        Assert.Equal(2, _world.ImagesOf(Web).Count);
    }

    [Fact]
    public void The_release_patch_also_removes_the_release_annotation_and_leaves_paused_alone_after_a_resume()
    {
        _world.AddHeldDeployment(Web, NewImages, paused: false);
        _world.Change(Web, d => d.Metadata.Annotations[KwarmApi.ReleaseAnnotation] = "true");

        var operations = HoldReleasePatch.Build(_world.Deployment(Web), "abc");

        Assert.Equal(
            [
                new JsonPatchOperation("test", "/metadata/annotations/kwarm.io~1hold", "abc"),
                new JsonPatchOperation("remove", "/metadata/annotations/kwarm.io~1hold"),
                new JsonPatchOperation("remove", "/metadata/annotations/kwarm.io~1policy"),
                new JsonPatchOperation("remove", "/metadata/annotations/kwarm.io~1release"),
                new JsonPatchOperation("add", "/metadata/annotations/kwarm.io~1released", "abc"),
            ],
            operations);
    }

    [Theory]
    [InlineData(HoldFailureAction.Release)]
    [InlineData(HoldFailureAction.Wait)]
    public async Task A_hold_of_only_images_no_node_can_pull_gets_no_PrePullImage_and_is_released_at_once(HoldFailureAction onFailure)
    {
        // The API server takes "nginx:" in a Deployment; the kubelet refuses it (InvalidImageName) and the CRD refuses a
        // PrePullImage for it. Nothing can become warm and nothing dates the hold: it fails open now, even with Wait.
        _world.AddPolicy("default", new HoldSpec { OnFailure = onFailure });
        _world.AddHeldDeployment(Web, ["nginx:"]);

        var result = await _world.NewReconciler().ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Null(result.RequeueAfter);
        Assert.Empty(_world.ImagesOf(Web));
        Assert.False(_world.Deployment(Web).Spec.Paused);
        var failure = Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.PullFailed);
        Assert.Contains("nginx: failed: it cannot be pulled: spec.image: \"nginx:\" is not a valid image reference", failure.Message, StringComparison.Ordinal);
        Assert.Equal("PullFailed", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
    }

    [Theory]
    [InlineData(HoldFailureAction.Release)]
    [InlineData(HoldFailureAction.Wait)]
    public async Task An_image_no_node_can_pull_next_to_a_valid_one_counts_as_a_failed_image(HoldFailureAction onFailure)
    {
        _world.AddPolicy("default", new HoldSpec { OnFailure = onFailure, MaxDuration = "5m" });
        _world.AddHeldDeployment(Web, [NewImages[0], "registry.example/shop/Sidecar:1.4"]);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.Equal([NewImages[0]], _world.ImagesOf(Web).Select(image => image.Spec.Image));
        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        _world.Time.Advance(TimeSpan.FromMinutes(1));

        var result = await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Contains(_world.Api.Events, e => e.Reason == HoldEvents.PullFailed && e.Message.Contains("registry.example/shop/Sidecar:1.4", StringComparison.Ordinal));
        if (onFailure == HoldFailureAction.Release)
        {
            Assert.Null(result.RequeueAfter);
            var released = _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased);
            Assert.Equal("PullFailed", released.Action);
            Assert.Contains("1 of 2 image(s)", released.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(TimeSpan.FromMinutes(4), result.RequeueAfter);
            Assert.True(_world.Deployment(Web).Spec.Paused);
        }
    }

    [Theory]
    [InlineData(HoldFailureAction.Release)]
    [InlineData(HoldFailureAction.Wait)]
    public async Task A_failed_pull_releases_as_PullFailed_or_waits_for_maxDuration_per_onFailure(HoldFailureAction onFailure)
    {
        _world.AddPolicy("default", new HoldSpec { OnFailure = onFailure, MaxDuration = "5m" });
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        var images = _world.ImagesOf(Web);
        _world.SetPhase(images[0], PrePullImagePhase.Completed);
        _world.SetPhase(images[1], PrePullImagePhase.Failed, "Failed to pull image \"registry.example/shop/web:2.0\": not found");
        _world.Time.Advance(TimeSpan.FromMinutes(1));

        var result = await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        var failure = Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.PullFailed);
        Assert.Contains("node node-b: Failed to pull image \"registry.example/shop/web:2.0\": not found", failure.Message, StringComparison.Ordinal);
        Assert.Equal("Warning", failure.Type);
        if (onFailure == HoldFailureAction.Release)
        {
            Assert.Null(result.RequeueAfter);
            Assert.False(_world.Deployment(Web).Spec.Paused);
            Assert.Equal("PullFailed", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
            return;
        }

        Assert.True(_world.Deployment(Web).Spec.Paused);
        Assert.Equal(TimeSpan.FromMinutes(4), result.RequeueAfter);
        _world.Time.Advance(TimeSpan.FromMinutes(4));
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.False(_world.Deployment(Web).Spec.Paused);
        Assert.Equal("Timeout", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
        Assert.Equal(("Timeout", 300d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
        Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.PullFailed);
    }

    [Fact]
    public async Task The_release_annotation_releases_at_once()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.Change(Web, d => d.Metadata.Annotations[KwarmApi.ReleaseAnnotation] = "true");

        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        var deployment = _world.Deployment(Web);
        Assert.False(deployment.Spec.Paused);
        Assert.False(deployment.Metadata.Annotations.ContainsKey(KwarmApi.ReleaseAnnotation));
        Assert.Equal("Released", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
    }

    [Fact]
    public async Task A_rollout_resume_by_a_person_counts_as_a_release_and_the_patch_does_not_touch_paused()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.Change(Web, d => d.Spec.Paused = false);

        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.DoesNotContain(_world.Api.Patches[^1], op => op.Path == "/spec/paused");
        Assert.Equal(HoldOf(NewImages), _world.Deployment(Web).Metadata.Annotations[KwarmApi.ReleasedAnnotation]);
        Assert.Equal("Released", _world.HoldDurations.Single().Reason);
    }

    [Fact]
    public async Task At_maxDuration_the_hold_fails_open_with_Timeout()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        var first = await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.Time.Advance(first.RequeueAfter!.Value - TimeSpan.FromSeconds(1));
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.True(_world.Deployment(Web).Spec.Paused);

        _world.Time.Advance(TimeSpan.FromSeconds(1));
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.False(_world.Deployment(Web).Spec.Paused);
        Assert.Equal(("Timeout", 900d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
    }

    [Fact]
    public async Task A_stale_release_is_refused_by_the_test_and_never_unpauses_a_newer_hold()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        // The server already has a newer hold (another image change); the cache has not seen it yet.
        var server = _world.Api.ServerDeployments[Key];
        server.Metadata.Annotations[KwarmApi.HoldAnnotation] = "newer-hold";

        var result = await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Equal(HoldReconciler.RefusedReleaseRetry, result.RequeueAfter);
        Assert.Equal(1, _world.Api.RefusedPatches);
        Assert.True(_world.Api.ServerDeployments[Key].Spec.Paused);
        Assert.Equal("newer-hold", _world.Api.ServerDeployments[Key].Metadata.Annotations[KwarmApi.HoldAnnotation]);
        Assert.DoesNotContain(_world.Api.Events, e => e.Reason == HoldEvents.HoldReleased);
        Assert.Empty(_world.HoldDurations);
    }

    [Fact]
    public async Task An_image_change_during_a_hold_deletes_the_superseded_PrePullImages_and_the_new_hold_releases_when_warm()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        var first = _world.ImagesOf(Web).Select(i => i.Metadata.Name).ToList();
        string[] third = ["registry.example/shop/web:3.0", "registry.example/shop/sidecar:1.4"];
        _world.Change(Web, d =>
        {
            d.Spec.Template.Spec.Containers[0].Image = third[0];
            d.Metadata.Annotations[KwarmApi.HoldAnnotation] = HoldOf(third);
        });

        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Equal(first.Order(StringComparer.Ordinal), _world.Api.Deleted.Order(StringComparer.Ordinal));
        var current = _world.ImagesOf(Web);
        Assert.All(current, image => Assert.Equal(HoldOf(third), image.Metadata.Labels[KwarmApi.HoldLabel]));
        Assert.Empty(current.Select(i => i.Metadata.Name).Intersect(first));

        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.Equal(HoldOf(third), _world.Deployment(Web).Metadata.Annotations[KwarmApi.ReleasedAnnotation]);
        Assert.Equal(2, _world.Api.Events.Count(e => e.Reason == HoldEvents.HoldStarted));
    }

    [Fact]
    public async Task After_a_restart_mid_hold_the_new_reconciler_keeps_the_original_deadline_and_records_no_duplicate_events()
    {
        _world.AddHeldDeployment(Web, NewImages);
        await _world.NewReconciler().ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.Time.Advance(TimeSpan.FromMinutes(10));

        var restarted = _world.NewReconciler();
        var result = await restarted.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.FromMinutes(5), result.RequeueAfter);
        Assert.Single(_world.Api.Events);
        Assert.Equal(1, _world.Api.DuplicateEventCreates);
        Assert.Equal(2, _world.ImagesOf(Web).Count);

        _world.Time.Advance(TimeSpan.FromMinutes(5));
        await restarted.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.False(_world.Deployment(Web).Spec.Paused);
        Assert.Equal(("Timeout", 900d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
    }

    [Fact]
    public async Task Repeated_reconciles_record_each_event_once_and_ask_the_API_only_once()
    {
        _world.AddPolicy("default", new HoldSpec { OnFailure = HoldFailureAction.Wait });
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.SetPhase(_world.ImagesOf(Web)[1], PrePullImagePhase.Failed, "ErrImagePull");

        for (var i = 0; i < 4; i++)
        {
            await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        }

        Assert.Equal([HoldEvents.HoldStarted, HoldEvents.PullFailed], _world.Api.Events.Select(e => e.Reason));
        Assert.Equal(0, _world.Api.DuplicateEventCreates);
        Assert.Equal(2, _world.Api.Created.Count);
    }

    [Fact]
    public async Task A_hold_whose_policy_is_gone_is_released_as_Released()
    {
        _world.AddHeldDeployment(Web, NewImages, policy: "deleted-policy");

        await _world.NewReconciler().ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.False(_world.Deployment(Web).Spec.Paused);
        var released = _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased);
        Assert.Contains("PrePullPolicy deleted-policy no longer exists", released.Message, StringComparison.Ordinal);
        Assert.Empty(_world.Api.Created);
    }

    [Fact]
    public async Task A_Deployment_paused_by_someone_else_is_never_touched()
    {
        var deployment = HoldWorld.Deployment(Web, NewImages);
        deployment.Spec.Paused = true;
        _world.Upsert(deployment);

        var result = await _world.NewReconciler().ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Null(result.RequeueAfter);
        Assert.Empty(_world.Api.Patches);
        Assert.Empty(_world.Api.Created);
        Assert.Empty(_world.Api.Events);
    }

    [Fact]
    public async Task A_Deployment_deleted_mid_hold_leaves_no_PrePullImage_and_a_released_hold_keeps_its_own()
    {
        _world.AddHeldDeployment(Web, NewImages);
        _world.AddHeldDeployment("api", ["registry.example/shop/api:9"]);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        await reconciler.ReconcileAsync(ResourceKeys.For(HoldWorld.Namespace, "api"), TestContext.Current.CancellationToken);
        _world.SetAllPhases("api", PrePullImagePhase.Completed);
        await reconciler.ReconcileAsync(ResourceKeys.For(HoldWorld.Namespace, "api"), TestContext.Current.CancellationToken);
        _world.Deployments.Remove(Key);

        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        await reconciler.ReconcileAsync(ResourceKeys.For(HoldWorld.Namespace, "api"), TestContext.Current.CancellationToken);

        Assert.Empty(_world.ImagesOf(Web));
        Assert.Single(_world.ImagesOf("api"));
    }

    [Fact]
    public async Task PrePullImages_target_the_policy_nodes_and_pull_with_the_pods_identity()
    {
        _world.AddPolicy("default", nodeSelector: new k8s.Models.V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["pool"] = "web" } });
        _world.ServiceAccounts.Upsert(new k8s.Models.V1ServiceAccount
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = "shop-runner", NamespaceProperty = HoldWorld.Namespace },
            ImagePullSecrets = [new k8s.Models.V1LocalObjectReference { Name = "sa-secret" }],
        });
        _world.AddHeldDeployment(Web, NewImages);
        _world.Change(Web, d =>
        {
            d.Spec.Template.Spec.ServiceAccountName = "shop-runner";
            d.Spec.Template.Spec.ImagePullSecrets = [new k8s.Models.V1LocalObjectReference { Name = "pod-secret" }];
            d.Spec.Template.Spec.Tolerations = [new k8s.Models.V1Toleration { Key = "dedicated", OperatorProperty = "Exists" }];
        });

        await _world.NewReconciler().ReconcileAsync(Key, TestContext.Current.CancellationToken);

        var spec = _world.ImagesOf(Web)[0].Spec;
        Assert.Equal("web", spec.Nodes!.Selector!.MatchLabels["pool"]);
        Assert.Equal(["pod-secret", "sa-secret"], spec.ImagePullSecrets!.Select(s => s.Name));
        Assert.Equal("shop-runner", spec.ServiceAccountName);
        Assert.Equal("dedicated", Assert.Single(spec.Tolerations!).Key);
        Assert.Equal(("10m0s", 3, 30), (spec.Timeout, spec.Retry!.MaxAttempts, spec.Retry.BackoffSeconds));
    }

    [Fact]
    public async Task Under_hold_enabled_false_an_update_rollout_is_pre_pulled_without_a_hold_and_a_new_Deployment_is_not()
    {
        _world.AddPolicy("default", new HoldSpec { Enabled = false });
        var deployment = HoldWorld.Deployment(Web, NewImages);
        deployment.Status = new k8s.Models.V1DeploymentStatus { Replicas = 3, UpdatedReplicas = 3 };
        _world.Upsert(deployment);
        var reconciler = _world.NewReconciler();

        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.Empty(_world.Api.Created);

        // An image change rolling out: new pods next to old ones.
        _world.Change(Web, d => d.Status = new k8s.Models.V1DeploymentStatus { Replicas = 4, UpdatedReplicas = 1 });
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        var images = _world.ImagesOf(Web);
        Assert.Equal(NewImages.Order(StringComparer.Ordinal), images.Select(i => i.Spec.Image));
        Assert.All(images, image => Assert.Equal(HoldOf(NewImages), image.Metadata.Labels[KwarmApi.HoldLabel]));
        Assert.Empty(_world.Api.Patches);
        Assert.Empty(_world.Api.Events);

        // Rolled out: the PrePullImages stay for the pull engine's TTL.
        _world.Change(Web, d => d.Status = new k8s.Models.V1DeploymentStatus { Replicas = 3, UpdatedReplicas = 3 });
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.Equal(2, _world.ImagesOf(Web).Count);
        Assert.Empty(_world.Api.Deleted);

        // The next image change: the previous template's PrePullImages go, the new ones come.
        string[] next = ["registry.example/shop/web:3.0"];
        _world.Change(Web, d =>
        {
            d.Spec.Template.Spec.Containers = [new k8s.Models.V1Container { Name = "c0", Image = next[0] }];
            d.Status = new k8s.Models.V1DeploymentStatus { Replicas = 4, UpdatedReplicas = 1 };
        });
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        Assert.Equal(2, _world.Api.Deleted.Count);
        Assert.Equal(next, _world.ImagesOf(Web).Select(i => i.Spec.Image));
    }

    [Fact]
    public async Task An_update_rollout_under_a_holding_policy_creates_nothing_without_the_webhook_hold()
    {
        var deployment = HoldWorld.Deployment(Web, NewImages);
        deployment.Status = new k8s.Models.V1DeploymentStatus { Replicas = 4, UpdatedReplicas = 1 };
        _world.Upsert(deployment);

        await _world.NewReconciler().ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.Empty(_world.Api.Created);
    }

    [Fact]
    public async Task Removing_the_opt_in_label_during_a_hold_releases_it()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.Change(Web, d => d.Metadata.Labels.Remove(KwarmApi.EnabledLabel));

        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);

        Assert.False(_world.Deployment(Web).Spec.Paused);
        Assert.Contains("no longer selects this Deployment", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_release_event_is_written_even_when_leadership_ends_during_the_release()
    {
        _world.AddHeldDeployment(Web, NewImages);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, TestContext.Current.CancellationToken);
        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        using var leadership = new CancellationTokenSource();
        await leadership.CancelAsync();

        // The fake applies the patch whatever the token says, like a request already on the wire.
        await reconciler.ReconcileAsync(Key, leadership.Token);

        Assert.False(_world.Deployment(Web).Spec.Paused);
        Assert.Equal("Warm", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
    }
}
