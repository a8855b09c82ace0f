using Kwarm.Admission;
using Kwarm.Holds;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Holds;

/// <summary>
/// "A hold always ends by itself": every way found to move a hold's deadline, tried on the reconciler with a fake clock.
/// The deadline is the start recorded on the Deployment plus the policy's <c>hold.maxDuration</c>; nothing else may move it.
/// </summary>
public sealed class HoldDeadlineTests : IDisposable
{
    private const string Web = "web";
    private static readonly string[] Images = ["registry.example/shop/web:2.0"];
    private static readonly string[] OtherImages = ["registry.example/shop/web:3.0"];
    private readonly HoldWorld _world = new();

    public HoldDeadlineTests() =>
        _world.AddPolicy("default", new HoldSpec { OnFailure = HoldFailureAction.Wait, MaxDuration = "2m" });

    public void Dispose() => _world.Dispose();

    private static string Key => ResourceKeys.For(HoldWorld.Namespace, Web);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string? StartRecord => _world.Deployment(Web).Metadata.Annotations.ValueOf(KwarmApi.HoldStartedAnnotation);

    [Fact]
    public async Task Failed_PrePullImages_deleted_and_created_again_every_41_seconds_do_not_move_the_deadline()
    {
        _world.AddHeldDeployment(Web, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, Token);
        Assert.Equal(HoldId.For(Images) + "@2026-03-01T09:00:00Z", StartRecord);

        // What a short --finished-prepullimage-ttl (or a person) did before: the failed image goes, comes back with a
        // new creation time, fails again.
        for (var round = 0; round < 2; round++)
        {
            _world.SetAllPhases(Web, PrePullImagePhase.Failed);
            await reconciler.ReconcileAsync(Key, Token);
            _world.Time.Advance(TimeSpan.FromSeconds(41));
            foreach (var image in _world.ImagesOf(Web))
            {
                _world.PrePullImages.Remove(ResourceKeys.For(image));
            }

            var result = await reconciler.ReconcileAsync(Key, Token);
            Assert.Single(_world.ImagesOf(Web));
            Assert.Equal(TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(41 * (round + 1)), result.RequeueAfter);
        }

        _world.Time.Advance(TimeSpan.FromSeconds(120 - 82));
        await reconciler.ReconcileAsync(Key, Token);

        Assert.False(_world.Deployment(Web).Spec.Paused);
        Assert.Equal(("Timeout", 120d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
        Assert.Null(StartRecord);
    }

    [Fact]
    public async Task A_new_leader_with_no_PrePullImage_left_releases_at_the_recorded_deadline()
    {
        _world.AddHeldDeployment(Web, Images);
        await _world.NewReconciler().ReconcileAsync(Key, Token);
        _world.Time.Advance(TimeSpan.FromSeconds(100));
        foreach (var image in _world.ImagesOf(Web))
        {
            _world.PrePullImages.Remove(ResourceKeys.For(image));
        }

        var successor = _world.NewReconciler();
        var waiting = await successor.ReconcileAsync(Key, Token);

        Assert.Equal(TimeSpan.FromSeconds(20), waiting.RequeueAfter);
        Assert.Single(_world.Api.Patches); // the start was written once, by the first leader
        _world.Time.Advance(TimeSpan.FromSeconds(20));
        await successor.ReconcileAsync(Key, Token);
        Assert.Equal(("Timeout", 120d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
    }

    [Fact]
    public async Task A_start_the_watch_has_not_delivered_yet_is_not_written_again_and_goes_with_the_release()
    {
        _world.Api.DeploymentWatchLags = true;
        _world.AddHeldDeployment(Web, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, Token);
        _world.Time.Advance(TimeSpan.FromSeconds(30));

        var waiting = await reconciler.ReconcileAsync(Key, Token);

        Assert.Single(_world.Api.Patches);
        Assert.Equal(TimeSpan.FromSeconds(90), waiting.RequeueAfter);
        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        await reconciler.ReconcileAsync(Key, Token);
        var server = _world.Api.ServerDeployments[Key];
        Assert.False(server.Spec.Paused);
        Assert.Equal(new Dictionary<string, string> { [KwarmApi.ReleasedAnnotation] = HoldId.For(Images) }, server.Metadata.Annotations);
        Assert.Equal(0, _world.Api.RefusedPatches);
    }

    [Fact]
    public async Task Editing_the_policy_mid_hold_keeps_the_start_and_a_shorter_maxDuration_counts_from_it()
    {
        _world.AddHeldDeployment(Web, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, Token);
        _world.Time.Advance(TimeSpan.FromSeconds(50));

        var policy = _world.Policies.Get("default")!;
        _world.Policies.Upsert(policy with { Spec = policy.Spec with { Retry = new RetrySpec { MaxAttempts = 5 } } });
        Assert.Equal(TimeSpan.FromSeconds(70), (await reconciler.ReconcileAsync(Key, Token)).RequeueAfter);

        _world.Policies.Upsert(policy with { Spec = policy.Spec with { Hold = new HoldSpec { OnFailure = HoldFailureAction.Wait, MaxDuration = "1m" } } });
        Assert.Equal(TimeSpan.FromSeconds(10), (await reconciler.ReconcileAsync(Key, Token)).RequeueAfter);
        _world.Time.Advance(TimeSpan.FromSeconds(10));
        await reconciler.ReconcileAsync(Key, Token);
        Assert.Equal(("Timeout", 60d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
    }

    [Fact]
    public async Task A_superseded_hold_ends_with_HoldReleased_Superseded_and_the_new_hold_gets_its_own_deadline()
    {
        _world.AddHeldDeployment(Web, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, Token);
        _world.Time.Advance(TimeSpan.FromSeconds(30));
        _world.Change(Web, d =>
        {
            d.Spec.Template.Spec.Containers[0].Image = OtherImages[0];
            d.Metadata.Annotations[KwarmApi.HoldAnnotation] = HoldId.For(OtherImages);
        });

        var waiting = await reconciler.ReconcileAsync(Key, Token);

        Assert.Equal(TimeSpan.FromMinutes(2), waiting.RequeueAfter);
        Assert.Equal(HoldId.For(OtherImages) + "@2026-03-01T09:00:30Z", StartRecord);
        var superseded = Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.HoldReleased);
        Assert.Equal("Superseded", superseded.Action);
        Assert.StartsWith($"Hold {HoldId.For(Images)} released (Superseded)", superseded.Message, StringComparison.Ordinal);
        Assert.Equal(("Superseded", 30d), (_world.HoldDurations.Single().Reason, _world.HoldDurations.Single().Seconds));
        Assert.Equal(2, _world.Api.Events.Count(e => e.Reason == HoldEvents.HoldStarted));
    }

    [Fact]
    public async Task An_image_set_changed_back_to_during_a_hold_starts_and_ends_a_hold_of_its_own_under_a_known_id()
    {
        _world.AddHeldDeployment(Web, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, Token);
        foreach (var (images, seconds) in new[] { (OtherImages, 10), (Images, 20) })
        {
            _world.Time.Advance(TimeSpan.FromSeconds(seconds));
            _world.Change(Web, d =>
            {
                d.Spec.Template.Spec.Containers[0].Image = images[0];
                d.Metadata.Annotations[KwarmApi.HoldAnnotation] = HoldId.For(images);
            });
            await reconciler.ReconcileAsync(Key, Token);
        }

        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        await reconciler.ReconcileAsync(Key, Token);

        // Three holds started (web:2, web:3, web:2 again), and each ended exactly once.
        var started = _world.Api.Events.Where(e => e.Reason == HoldEvents.HoldStarted).ToList();
        var released = _world.Api.Events.Where(e => e.Reason == HoldEvents.HoldReleased).ToList();
        Assert.Equal(3, started.Count);
        Assert.Equal(["Superseded", "Superseded", "Warm"], released.Select(e => e.Action));
        Assert.Equal(2, released.Count(e => e.Message.StartsWith($"Hold {HoldId.For(Images)} ", StringComparison.Ordinal)));
        Assert.Equal(3, released.Select(e => e.Metadata.Name).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task A_hold_annotation_removed_by_hand_ends_the_hold_with_one_HoldReleased_and_the_record_goes()
    {
        _world.AddHeldDeployment(Web, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, Token);
        _world.Change(Web, d => d.Metadata.Annotations.Remove(KwarmApi.HoldAnnotation));

        await reconciler.ReconcileAsync(Key, Token);
        await reconciler.ReconcileAsync(Key, Token);

        var released = Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.HoldReleased);
        Assert.Equal("Released", released.Action);
        Assert.Null(StartRecord);
        Assert.True(_world.Deployment(Web).Spec.Paused); // a pause Kwarm no longer owns is never lifted
    }

    [Fact]
    public async Task Keep_paused_ends_the_hold_but_leaves_the_rollout_paused_and_is_honoured_once()
    {
        _world.AddHeldDeployment(Web, Images);
        var reconciler = _world.NewReconciler();
        await reconciler.ReconcileAsync(Key, Token);
        _world.Change(Web, d => d.Metadata.Annotations[KwarmApi.KeepPausedAnnotation] = "true");

        _world.SetAllPhases(Web, PrePullImagePhase.Completed);
        await reconciler.ReconcileAsync(Key, Token);

        var deployment = _world.Deployment(Web);
        Assert.True(deployment.Spec.Paused);
        Assert.Equal(new Dictionary<string, string> { [KwarmApi.ReleasedAnnotation] = HoldId.For(Images) }, deployment.Metadata.Annotations);
        var released = Assert.Single(_world.Api.Events, e => e.Reason == HoldEvents.HoldReleased);
        Assert.Equal("Warm", released.Action);
        Assert.Contains("stays paused", released.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_start_record_round_trips_and_a_malformed_one_reads_as_absent()
    {
        var start = HoldStart.Of("5e2c969f719f", new DateTimeOffset(2026, 12, 4, 3, 40, 12, 987, TimeSpan.Zero));

        Assert.Equal("5e2c969f719f@2026-12-04T03:40:12Z", start.Format());
        Assert.Equal(start, HoldStart.Parse(start.Format()));
        Assert.Null(HoldStart.Parse("5e2c969f719f"));
        Assert.Null(HoldStart.Parse("@2026-12-04T03:40:12Z"));
        Assert.Null(HoldStart.Parse("5e2c969f719f@yesterday"));
    }
}
