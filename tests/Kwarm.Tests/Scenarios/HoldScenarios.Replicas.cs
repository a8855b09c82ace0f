using k8s;
using Kwarm.Resources;

namespace Kwarm.Tests.Scenarios;

/// <summary>More than one Kwarm, or none for a while: restarts, fail-open and leader failover in the middle of a hold.</summary>
public abstract partial class HoldScenarios
{
    private async Task<string?> LeaderAsync()
    {
        try
        {
            var lease = await Cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("kwarm-leader", "kwarm-system", cancellationToken: TestContext.Current.CancellationToken);
            return lease.Spec?.HolderIdentity is { Length: > 0 } holder ? holder : null;
        }
        catch (k8s.Autorest.HttpOperationException notFound) when (notFound.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>What the standby replica asked of the API, where the backend audits requests (null elsewhere).</summary>
    private List<Kwarm.Simulator.Api.AuditedRequest>? FollowerRequests() =>
        Cluster.Audit is { } audit ? [.. audit.Snapshot().Keys.Where(request => request.User == Cluster.StandbyUser)] : null;

    [Fact]
    public async Task Kwarm_restarted_mid_hold_picks_the_hold_up_and_releases_it_at_the_original_deadline()
    {
        KeepPullsBusy();
        await StartAsync(maxDuration: "15s");
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);
        var created = (await PrePullImagesAsync()).Min(p => p.Metadata.CreationTimestamp!.Value);

        await Cluster.Replicas.Single().StopAsync();
        Assert.True((await WebAsync()).Spec.Paused, "the first replica released before it stopped: the test proves nothing");
        // Down for a while: a deadline counted from the new process's start would come visibly later.
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        var restartedAt = DateTime.UtcNow;
        await Cluster.RouteWebhookToAsync(await Cluster.StartKwarmAsync());

        await WaitForReleaseAsync([Image2], seconds: 40);
        var released = (await ReleasedEventAsync());
        Assert.Equal("Timeout", released.Action);
        // The deadline came from the PrePullImages' creation (15 s after it, at least 3 s before a deadline counted
        // from the restart), not from the new process's start, which would release at restartedAt + 15 s or later.
        // Event times are cut to whole seconds, so a release from the restart would read at least restartedAt + 14 s;
        // the margin left for a slow start and reconcile on a loaded machine is the 3 s of downtime and more.
        Assert.True(released.FirstTimestamp!.Value >= created.AddSeconds(14), $"released at {released.FirstTimestamp:O}, before maxDuration from {created:O}");
        Assert.True(released.FirstTimestamp.Value < restartedAt.AddSeconds(14), $"released at {released.FirstTimestamp:O}, as late as a deadline counted from the restart at {restartedAt:O}");
        Assert.Single(await KwarmEventsAsync("HoldStarted"));
    }

    [Fact]
    public async Task With_Kwarm_stopped_an_image_change_rolls_out_unheld_because_the_webhook_fails_open()
    {
        await StartAsync();
        await Cluster.Replicas.Single().StopAsync();

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=30s");
        var web = await WebAsync();
        Assert.NotEqual(true, web.Spec.Paused);
        Assert.False(web.Metadata.Annotations?.ContainsKey(KwarmApi.HoldAnnotation) ?? false);
    }

    [Fact]
    public async Task With_two_replicas_the_follower_serves_the_webhook_and_takes_over_the_hold_when_the_leader_dies()
    {
        KeepPullsBusy();
        await StartAsync("10m", "Release", "--leader-elect");
        await Eventually.WaitUntilAsync(async () => await LeaderAsync() is not null, "the first replica to take the Lease");
        var firstLeader = await LeaderAsync();
        // On the simulator the follower connects under a name of its own so that the audit shows what it, and only it, asked of the API.
        var follower = await Cluster.StartStandbyKwarmAsync("--leader-elect");
        // The webhook Service is routed to the follower: it holds the rollout, the leader creates the PrePullImages.
        await Cluster.RouteWebhookToAsync(follower);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);
        // The leader has been pulling for a while (Jobs created, statuses written) before the follower is judged.
        await Eventually.WaitUntilAsync(
            async () => (await PrePullImagesAsync()).Any(p => p.Status?.Summary?.Pulling > 0),
            "the leader to start pulling");
        Assert.Equal(firstLeader, await LeaderAsync());
        if (FollowerRequests() is { } whileFollowing)
        {
            Assert.Contains(whileFollowing, request => request.Verb == "watch" && request.Resource == "deployments");
            Assert.All(whileFollowing, request => Assert.True(
                request.Verb is "list" or "watch" || request.Group == "coordination.k8s.io",
                $"the follower did {request.Verb} {request.Group}/{request.Resource}/{request.Subresource} while another replica led"));
        }

        await Cluster.Replicas[0].StopAsync();
        await Eventually.WaitUntilAsync(async () => await LeaderAsync() is { } holder && holder != firstLeader, "the follower to take the Lease", TimeSpan.FromSeconds(40));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "annotate", "deployment/web", "kwarm.io/release=true");

        await WaitForReleaseAsync([Image2]);
        Assert.Single(await KwarmEventsAsync("HoldStarted"));
        Assert.Equal("Released", (await ReleasedEventAsync()).Action);
        // The release was the former follower's write: the audit above would have seen such writes had it made them earlier.
        if (FollowerRequests() is { } afterTakeover)
        {
            Assert.Contains(afterTakeover, request => request.Verb == "patch" && request.Resource == "deployments");
        }
    }
}
