using System.Text.Json.Nodes;
using Kwarm.Holds;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Holds;

/// <summary>The hold controller on StatefulSets and DaemonSets (issue #16), with the same fakes as the Deployment tests.</summary>
public sealed class WorkloadHoldReconcilerTests : IDisposable
{
    private const string Name = "db";
    private const string Surge = """{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":"25%"}}""";
    private static readonly string[] Images = ["registry.example/data/db:2.0", "registry.example/data/backup:1.1"];
    private static readonly string Hold = HoldId.For(Images);
    private readonly HoldWorld _world = new();

    public WorkloadHoldReconcilerTests() => _world.AddPolicy("default");

    public void Dispose() => _world.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static string Key(WorkloadKind kind) => WorkloadKeys.For(kind, HoldWorld.Namespace, Name);

    /// <summary>A workload as the webhook leaves it: the hold's spec change and hold, policy and record annotations.</summary>
    private void AddHeld(WorkloadKind kind, string recorded, string[]? images = null, Action<JsonObject>? change = null)
    {
        var workload = kind == WorkloadKind.StatefulSet
            ? HoldWorld.StatefulSetJson(Name, images ?? Images, JsonNode.Parse($$$"""{"type":"RollingUpdate","rollingUpdate":{"partition":{{{HoldMechanics.HeldPartition}}}}}"""))
            : HoldWorld.DaemonSetJson(Name, images ?? Images, JsonNode.Parse(HoldMechanics.HeldDaemonSetStrategy));
        workload["metadata"]!["annotations"] = new JsonObject
        {
            [KwarmApi.HoldAnnotation] = HoldId.For(images ?? Images),
            [KwarmApi.PolicyAnnotation] = "default",
            [HoldMechanics.RecordAnnotation(kind)!] = recorded,
        };
        change?.Invoke(workload);
        _world.Put(kind, workload);
    }

    private string Strategy(WorkloadKind kind) => _world.Server(kind, Name)["spec"]!["updateStrategy"]!.ToJsonString();

    private Dictionary<string, string?> Annotations(WorkloadKind kind) =>
        _world.Server(kind, Name)["metadata"]!["annotations"]!.AsObject().ToDictionary(pair => pair.Key, pair => (string?)pair.Value);

    [Theory]
    [InlineData(WorkloadKind.StatefulSet, "kwarm.io/statefulset")]
    [InlineData(WorkloadKind.DaemonSet, "kwarm.io/daemonset")]
    public async Task A_hold_gets_PrePullImages_owned_by_and_labelled_with_the_workload_and_its_start_recorded_on_it(WorkloadKind kind, string label)
    {
        AddHeld(kind, kind == WorkloadKind.StatefulSet ? "1" : Surge);

        var result = await _world.NewReconciler().ReconcileAsync(Key(kind), Token);

        var images = _world.ImagesOf(kind, Name);
        Assert.Equal(["registry.example/data/backup:1.1", "registry.example/data/db:2.0"], images.Select(image => image.Spec.Image));
        Assert.All(images, image =>
        {
            Assert.Equal((Name, Hold), (image.Metadata.Labels[label], image.Metadata.Labels[KwarmApi.HoldLabel]));
            Assert.False(image.Metadata.Labels.ContainsKey(KwarmApi.DeploymentLabel));
            var owner = Assert.Single(image.Metadata.OwnerReferences);
            Assert.Equal(("apps/v1", kind.ToString(), Name, "uid-" + Name, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller));
            Assert.True(image.Metadata.Name.Length <= 63);
            Assert.NotEqual(HoldNames.PrePullImage(Name, Hold, image.Spec.Image), image.Metadata.Name);
        });
        Assert.Empty(_world.ImagesOf(WorkloadKind.Deployment, Name));
        Assert.Equal(TimeSpan.FromMinutes(15), result.RequeueAfter);
        var (patchedKind, patch) = Assert.Single(_world.Api.KindedPatches);
        Assert.Equal(kind, patchedKind);
        Assert.Equal($"{Hold}@2026-03-01T09:00:00Z", Annotations(kind)[KwarmApi.HoldStartedAnnotation]);
        var started = Assert.Single(_world.Api.Events);
        Assert.Equal((HoldEvents.HoldStarted, kind.ToString(), Name), (started.Reason, started.InvolvedObject.Kind, started.InvolvedObject.Name));
    }

    [Theory]
    [InlineData("1", """{"type":"RollingUpdate","rollingUpdate":{"partition":1}}""")]
    [InlineData("none", """{"type":"RollingUpdate","rollingUpdate":{}}""")]
    public async Task A_warm_StatefulSet_gets_its_partition_back_in_one_patch_that_tests_the_hold(string recorded, string restored)
    {
        AddHeld(WorkloadKind.StatefulSet, recorded);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key(WorkloadKind.StatefulSet), Token);
        _world.Time.Advance(TimeSpan.FromSeconds(20));
        _world.SetAllPhases(WorkloadKind.StatefulSet, Name, PrePullImagePhase.Completed);

        var result = await reconciler.ReconcileAsync(Key(WorkloadKind.StatefulSet), Token);

        Assert.Null(result.RequeueAfter);
        var release = JsonPatchOperation.SerializeToString(_world.Api.KindedPatches[^1].Patch);
        Assert.StartsWith($$"""[{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"{{Hold}}"},""", release, StringComparison.Ordinal);
        Assert.Equal(restored, Strategy(WorkloadKind.StatefulSet));
        Assert.Equal(new Dictionary<string, string?> { [KwarmApi.ReleasedAnnotation] = Hold }, Annotations(WorkloadKind.StatefulSet));
        var released = _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased);
        Assert.Equal(("Warm", "StatefulSet"), (released.Action, released.InvolvedObject.Kind));
        Assert.Equal(("Warm", 20d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
    }

    [Fact]
    public async Task A_warm_DaemonSet_gets_its_exact_strategy_back()
    {
        AddHeld(WorkloadKind.DaemonSet, Surge);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key(WorkloadKind.DaemonSet), Token);
        _world.SetAllPhases(WorkloadKind.DaemonSet, Name, PrePullImagePhase.Completed);

        await reconciler.ReconcileAsync(Key(WorkloadKind.DaemonSet), Token);

        Assert.Equal(Surge, Strategy(WorkloadKind.DaemonSet));
        Assert.Equal(new Dictionary<string, string?> { [KwarmApi.ReleasedAnnotation] = Hold }, Annotations(WorkloadKind.DaemonSet));
        Assert.DoesNotContain(_world.Api.Events, e => e.Reason == HoldEvents.DefaultRestored);
    }

    [Theory]
    [InlineData(WorkloadKind.StatefulSet, "lots", """{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""")]
    [InlineData(WorkloadKind.DaemonSet, "[]", HoldMechanics.DefaultDaemonSetStrategy)]
    public async Task An_unparsable_record_restores_the_API_default_with_a_Warning_event(WorkloadKind kind, string recorded, string restored)
    {
        AddHeld(kind, recorded);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key(kind), Token);
        _world.SetAllPhases(kind, Name, PrePullImagePhase.Completed);

        await reconciler.ReconcileAsync(Key(kind), Token);

        Assert.Equal(restored, Strategy(kind));
        var warning = Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.DefaultRestored);
        Assert.Equal(("Warning", kind.ToString()), (warning.Type, warning.InvolvedObject.Kind));
        Assert.Contains(HoldMechanics.RecordAnnotation(kind)!, warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(WorkloadKind.StatefulSet)]
    [InlineData(WorkloadKind.DaemonSet)]
    public async Task The_hold_is_released_at_maxDuration_across_a_restart(WorkloadKind kind)
    {
        AddHeld(kind, kind == WorkloadKind.StatefulSet ? "2" : Surge);
        await _world.NewReconciler().ReconcileAsync(Key(kind), Token);
        _world.Time.Advance(TimeSpan.FromMinutes(10));

        var waiting = await _world.NewReconciler().ReconcileAsync(Key(kind), Token);
        Assert.Equal(TimeSpan.FromMinutes(5), waiting.RequeueAfter);
        _world.Time.Advance(TimeSpan.FromMinutes(5));
        await _world.NewReconciler().ReconcileAsync(Key(kind), Token);

        Assert.Equal(kind == WorkloadKind.StatefulSet ? """{"type":"RollingUpdate","rollingUpdate":{"partition":2}}""" : Surge, Strategy(kind));
        Assert.Equal("Timeout", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
        Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.HoldStarted);
        Assert.Equal(900d, _world.HoldDurations.Single().Seconds);
    }

    [Theory]
    [InlineData(WorkloadKind.StatefulSet, KwarmApi.ReleaseAnnotation)]
    [InlineData(WorkloadKind.DaemonSet, KwarmApi.ReleaseAnnotation)]
    [InlineData(WorkloadKind.StatefulSet, KwarmApi.SkipAnnotation)]
    [InlineData(WorkloadKind.DaemonSet, KwarmApi.SkipAnnotation)]
    public async Task The_release_and_skip_annotations_release_at_once(WorkloadKind kind, string annotation)
    {
        AddHeld(kind, kind == WorkloadKind.StatefulSet ? "1" : Surge, change: workload => workload["metadata"]!["annotations"]![annotation] = "true");

        await _world.NewReconciler().ReconcileAsync(Key(kind), Token);

        Assert.Equal(kind == WorkloadKind.StatefulSet ? """{"type":"RollingUpdate","rollingUpdate":{"partition":1}}""" : Surge, Strategy(kind));
        Assert.Equal("Released", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
        Assert.Equal(annotation == KwarmApi.SkipAnnotation, Annotations(kind).ContainsKey(KwarmApi.SkipAnnotation));
        Assert.False(Annotations(kind).ContainsKey(KwarmApi.ReleaseAnnotation));
    }

    [Fact]
    public async Task A_superseded_hold_loses_its_PrePullImages_and_ends_Superseded()
    {
        AddHeld(WorkloadKind.StatefulSet, "1", ["registry.example/data/db:1.0"]);
        await _world.NewReconciler().ReconcileAsync(Key(WorkloadKind.StatefulSet), Token);
        var old = Assert.Single(_world.ImagesOf(WorkloadKind.StatefulSet, Name));
        var started = Annotations(WorkloadKind.StatefulSet)[KwarmApi.HoldStartedAnnotation];

        // The webhook's answer to an image change during the hold: a new id, the record and the start record kept.
        AddHeld(WorkloadKind.StatefulSet, "1", change: workload => workload["metadata"]!["annotations"]![KwarmApi.HoldStartedAnnotation] = started);
        await _world.NewReconciler().ReconcileAsync(Key(WorkloadKind.StatefulSet), Token);

        Assert.Contains(old.Metadata.Name, _world.Api.Deleted);
        Assert.Equal(2, _world.ImagesOf(WorkloadKind.StatefulSet, Name).Count);
        Assert.Equal("Superseded", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Action);
        Assert.Equal(2, _world.Api.Events.Count(e => e.Reason == HoldEvents.HoldStarted));
    }

    [Fact]
    public async Task A_policy_that_stops_naming_the_kind_releases_the_hold()
    {
        AddHeld(WorkloadKind.DaemonSet, Surge);
        _world.Policies.Upsert(_world.Policies.Get("default")! with { Spec = _world.Policies.Get("default")!.Spec with { Workloads = [WorkloadKind.Deployment] } });

        await _world.NewReconciler().ReconcileAsync(Key(WorkloadKind.DaemonSet), Token);

        var released = _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased);
        Assert.Contains("no longer selects this DaemonSet", released.Message, StringComparison.Ordinal);
        Assert.Equal(Surge, Strategy(WorkloadKind.DaemonSet));
    }

    [Fact]
    public async Task A_partition_lowered_by_hand_without_the_webhook_releases_and_leaves_the_users_value()
    {
        AddHeld(WorkloadKind.StatefulSet, "1", change: workload => workload["spec"]!["updateStrategy"]!["rollingUpdate"]!["partition"] = 2);

        await _world.NewReconciler().ReconcileAsync(Key(WorkloadKind.StatefulSet), Token);

        Assert.Equal("""{"type":"RollingUpdate","rollingUpdate":{"partition":2}}""", Strategy(WorkloadKind.StatefulSet));
        Assert.Contains("partition was changed by hand", _world.Api.Events.Single(e => e.Reason == HoldEvents.HoldReleased).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_DaemonSet_with_its_own_OnDelete_is_pre_pulled_during_its_update_without_a_hold()
    {
        var workload = HoldWorld.DaemonSetJson(Name, Images, JsonNode.Parse("""{"type":"OnDelete"}"""));
        workload["status"]!["updatedNumberScheduled"] = 1;
        _world.Put(WorkloadKind.DaemonSet, workload);

        await _world.NewReconciler().ReconcileAsync(Key(WorkloadKind.DaemonSet), Token);

        Assert.Equal(2, _world.ImagesOf(WorkloadKind.DaemonSet, Name).Count);
        Assert.All(_world.ImagesOf(WorkloadKind.DaemonSet, Name), image => Assert.Equal(Hold, image.Metadata.Labels[KwarmApi.HoldLabel]));
        Assert.Empty(_world.Api.KindedPatches);
        Assert.Empty(_world.Api.Events);
    }

    [Fact]
    public async Task A_StatefulSet_with_RollingUpdate_and_no_hold_is_not_pre_pulled()
    {
        var workload = HoldWorld.StatefulSetJson(Name, Images);
        workload["status"]!["updatedReplicas"] = 1;
        _world.Put(WorkloadKind.StatefulSet, workload);

        await _world.NewReconciler().ReconcileAsync(Key(WorkloadKind.StatefulSet), Token);

        Assert.Empty(_world.ImagesOf(WorkloadKind.StatefulSet, Name));
    }

    [Fact]
    public async Task A_deleted_workload_loses_its_PrePullImages_and_a_Deployment_of_the_same_name_keeps_its_own()
    {
        AddHeld(WorkloadKind.DaemonSet, Surge);
        _world.AddHeldDeployment(Name, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key(WorkloadKind.DaemonSet), Token);
        await reconciler.ReconcileAsync(WorkloadKeys.For(WorkloadKind.Deployment, HoldWorld.Namespace, Name), Token);
        Assert.Equal(2, _world.ImagesOf(WorkloadKind.DaemonSet, Name).Count);
        Assert.Equal(2, _world.ImagesOf(Name).Count);

        _world.DaemonSets.Remove(Kwarm.Runtime.ResourceKeys.For(HoldWorld.Namespace, Name));
        await reconciler.ReconcileAsync(Key(WorkloadKind.DaemonSet), Token);

        Assert.Empty(_world.ImagesOf(WorkloadKind.DaemonSet, Name));
        Assert.Equal(2, _world.ImagesOf(Name).Count);
    }
}
