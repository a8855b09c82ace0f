using k8s;
using Kwarm.Admission;
using Kwarm.Holds;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Scenarios;

/// <summary>"A hold always ends by itself" (DESIGN §9), attacked on the simulator all at once.</summary>
public abstract partial class HoldScenarios
{
    private const int DeadlineSeconds = 30;

    /// <summary>
    /// A known-bad image under <c>onFailure: Wait</c>, a finished-PrePullImage TTL thirty times shorter than the hold,
    /// the hold's PrePullImages deleted by hand, its policy edited, its leader killed and a fresh replica started: the
    /// hold still ends at its start plus <c>maxDuration</c> (plus one reconcile), with one HoldStarted and one HoldReleased.
    /// </summary>
    [Fact]
    public async Task A_hold_ends_at_maxDuration_through_a_short_ttl_deletions_a_policy_edit_a_failover_and_a_restart()
    {
        Cluster.Registry.MarkMissing(Image2);
        string[] kwarmArgs = ["--leader-elect", "--finished-prepullimage-ttl", "1s"];
        await StartAsync(maxDuration: DeadlineSeconds + "s", onFailure: "Wait", kwarmArgs);
        await Eventually.WaitUntilAsync(async () => await LeaderAsync() is not null, "the first replica to take the Lease");
        var firstLeader = await LeaderAsync();
        var follower = await Cluster.StartStandbyKwarmAsync(kwarmArgs);
        await Cluster.RouteWebhookToAsync(follower);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);
        await Eventually.WaitUntilAsync(async () => HoldStart.Parse((await WebAsync()).Metadata.Annotations?.TryGetValue(KwarmApi.HoldStartedAnnotation, out var recorded) == true ? recorded : null) is not null,
            "the hold's start record");
        var start = HoldStart.Parse((await WebAsync()).Metadata.Annotations[KwarmApi.HoldStartedAnnotation])!;
        Assert.Equal(HoldId.For([Image2]), start.HoldId);
        var deadline = start.At.UtcDateTime.AddSeconds(DeadlineSeconds);

        // The pull fails for good, then outlives the 1 s TTL without being deleted and created again.
        await Eventually.WaitUntilAsync(async () => (await PrePullImagesAsync()).Any(p => p.Status?.Phase == PrePullImagePhase.Failed), "the pull to fail");
        var failed = (await PrePullImagesAsync()).Single();
        await Eventually.WaitUntilAsync(async () => (await KwarmEventsAsync("PullFailed")).Count == 1, "the PullFailed event");

        // A person deletes the hold's PrePullImages: they come back, and the deadline does not move with them.
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "delete", "prepullimages", "-l", "kwarm.io/deployment=web", "--wait=false");
        await Eventually.WaitUntilAsync(async () => (await PrePullImagesAsync()).Any(p => p.Metadata.Uid != failed.Metadata.Uid), "the PrePullImage to be created again");

        // The policy is edited mid-hold (not its maxDuration).
        await Cluster.Kubectl.SucceedAsync("patch", "prepullpolicy", "default", "--type=merge", "-p", """{"spec":{"retry":{"maxAttempts":2}}}""");

        // The leader dies; the follower takes over once the Lease expires, and a fresh replica starts next to it.
        await Cluster.Replicas[0].StopAsync();
        await Cluster.StartKwarmAsync(kwarmArgs);
        Assert.True((await WebAsync()).Spec.Paused, "released before the deadline: the test proves nothing");
        await Eventually.WaitUntilAsync(async () => await LeaderAsync() is { } holder && holder != firstLeader, "a new leader", TimeSpan.FromSeconds(40));
        var newLeaderAt = DateTime.UtcNow;

        // The audit as it stood while the hold still held: read before the Deployment, so a snapshot kept is one taken
        // entirely before the release. After the release the finished PrePullImage's 1 s TTL deletes it, as designed.
        IReadOnlyDictionary<Kwarm.Simulator.Api.AuditedRequest, long>? whileHeld = null;
        await Eventually.WaitUntilAsync(
            async () =>
            {
                var snapshot = Cluster.Audit?.Snapshot();
                if ((await WebAsync()).Metadata.Annotations?.ContainsKey(KwarmApi.HoldAnnotation) == true)
                {
                    whileHeld = snapshot;
                    return false;
                }

                return true;
            },
            "the hold to end",
            TimeSpan.FromSeconds(DeadlineSeconds + 20));
        await WaitForReleaseAsync([Image2], seconds: DeadlineSeconds + 20);
        var released = await ReleasedEventAsync();
        Assert.Equal("Timeout", released.Action);
        // Event times have whole seconds. Released at the deadline counted from the recorded start, or at once by a
        // leader that took over after it had passed, never one maxDuration after any of the disturbances above.
        var due = deadline > newLeaderAt ? deadline : newLeaderAt;
        Assert.True(released.FirstTimestamp!.Value >= deadline.AddSeconds(-1), $"released at {released.FirstTimestamp:O}, before the deadline {deadline:O}");
        // A release one maxDuration late (30 s) is what this guards against; 10 s leaves room for a loaded machine.
        Assert.True(released.FirstTimestamp.Value <= due.AddSeconds(10), $"released at {released.FirstTimestamp:O}, after the deadline {due:O}");
        Assert.Single(await KwarmEventsAsync("HoldStarted"));
        Assert.Single(await KwarmEventsAsync("PullFailed"));

        // While the hold lasted, Kwarm itself never deleted its PrePullImages; it created them twice: at the start and
        // after the person's deletion (a create refused as a duplicate by a replica whose cache lagged would be a third).
        if (Cluster.Audit is null)
        {
            return;
        }

        Assert.NotNull(whileHeld);
        var kwarmRequests = whileHeld
            .Where(entry => entry.Key.User.StartsWith("system:serviceaccount:kwarm-system:", StringComparison.Ordinal) && entry.Key.Resource == "prepullimages")
            .ToList();
        Assert.DoesNotContain(kwarmRequests, entry => entry.Key.Verb == "delete");
        Assert.InRange(kwarmRequests.Where(entry => entry.Key.Verb == "create").Sum(entry => entry.Value), 2, 3);
    }

    /// <summary>
    /// A person who wants the rollout to wait past the hold: <c>kubectl rollout pause</c> is refused during a hold
    /// (already paused), so they annotate <c>kwarm.io/keep-paused=true</c>; the hold ends, the rollout stays paused
    /// until they resume it.
    /// </summary>
    [Fact]
    public async Task Keep_paused_during_a_hold_leaves_the_rollout_paused_after_the_release_until_a_person_resumes_it()
    {
        KeepPullsBusy();
        await StartAsync();
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);
        var pause = await Cluster.Kubectl.RunAsync("-n", Shop, "rollout", "pause", "deployment/web");
        Assert.NotEqual(0, pause.ExitCode);
        Assert.Contains("already paused", pause.Error, StringComparison.Ordinal);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "annotate", "deployment/web", "kwarm.io/keep-paused=true");
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "annotate", "deployment/web", "kwarm.io/release=true");

        await Eventually.WaitUntilAsync(async () => (await WebAsync()).Metadata.Annotations?.ContainsKey(KwarmApi.ReleasedAnnotation) == true, "the release");
        var released = await WebAsync();
        Assert.True(released.Spec.Paused, "the release unpaused a rollout a person asked to keep paused");
        Assert.False(released.Metadata.Annotations.ContainsKey(KwarmApi.KeepPausedAnnotation));
        Assert.Contains("stays paused", (await ReleasedEventAsync()).Message, StringComparison.Ordinal);
        Assert.DoesNotContain((await Cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items,
            rs => rs.Spec.Template.Spec.Containers[0].Image == Image2);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "resume", "deployment/web");
        await AssertRolloutStartedAsync(Image2);
    }
}
