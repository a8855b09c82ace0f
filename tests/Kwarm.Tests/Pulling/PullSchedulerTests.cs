using k8s.Models;
using Kwarm.Pulling;
using Kwarm.Resources;
using Microsoft.Extensions.Time.Testing;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

public sealed class PullSchedulerTests
{
    private static readonly PullJobTemplate Template = new("tools.local/kwarm:1");

    [Fact]
    public void Grants_stop_at_the_cluster_cap_and_the_per_node_cap_counting_existing_and_reserved_jobs()
    {
        var time = new FakeTimeProvider(Epoch);
        var scheduler = new PullScheduler(maxConcurrentPulls: 5, maxPullsPerNode: 2, time);
        var images = Enumerable.Range(0, 3).Select(i => Image("shop", $"img-{i}", new PrePullImageSpec { Image = $"r/{i}:1" }, Epoch.AddMinutes(i))).ToList();
        foreach (var image in images)
        {
            scheduler.SetDemand(new PullDemand($"shop/{image.Metadata.Name}", image.Metadata.CreationTimestamp!.Value, [new PullAttempt(image, "a", 1), new PullAttempt(image, "b", 1), new PullAttempt(image, "c", 1)]));
        }

        // One Job of another image already runs on node a.
        var existing = Created(Template.Build(new PullAttempt(Image("shop", "other", new PrePullImageSpec { Image = "r/o:1" }), "a", 1)));

        var first = scheduler.Plan([existing], Template.Build);

        // 1 running + 4 granted = the cluster cap. Idle nodes b and c first, both to img-0 (as much left as the others,
        // and the oldest); then second pulls: img-0's last on node a (its cap, with the running one), then img-1 on b.
        Assert.Equal(4, first.Count);
        Assert.Equal(1, first.Count(grant => grant.Attempt.Node == "a"));
        Assert.Equal(2, first.Count(grant => grant.Attempt.Node == "b"));
        Assert.Equal(1, first.Count(grant => grant.Attempt.Node == "c"));
        Assert.Equal(["b", "c"], first.Take(2).Select(grant => grant.Attempt.Node));
        Assert.Equal(["img-0", "img-0", "img-0", "img-1"], first.Select(grant => grant.Attempt.PrePullImage.Metadata.Name));
        Assert.Equal(5, scheduler.CountActive([existing]));

        // Nothing more fits until the cache shows a Job finishing, even though nothing was observed yet.
        Assert.Empty(scheduler.Plan([existing], Template.Build));
    }

    [Fact]
    public void A_node_warm_ups_attempts_are_granted_before_older_ones_on_the_same_node()
    {
        var scheduler = new PullScheduler(maxConcurrentPulls: 2, maxPullsPerNode: 1, new FakeTimeProvider(Epoch));
        var old = Image("shop", "rollout", new PrePullImageSpec { Image = "r/rollout:1" }, Epoch);
        var warmup = Image("shop", "kwarm-warmup-1", new PrePullImageSpec { Image = "r/web:1" }, Epoch.AddMinutes(5));
        scheduler.SetDemand(new PullDemand("shop/rollout", Epoch, [new PullAttempt(old, "new-1", 1), new PullAttempt(old, "b", 1)]));
        scheduler.SetDemand(new PullDemand("shop/kwarm-warmup-1", Epoch.AddMinutes(5), [new PullAttempt(warmup, "new-1", 1)], WarmsNodes: true));

        var grants = scheduler.Plan([], Template.Build);

        // The older PrePullImage would come first by age; the warming node's pull goes first instead, and the older one
        // gets the other node.
        Assert.Equal(["kwarm-warmup-1@new-1", "rollout@b"], grants.Select(grant => $"{grant.Attempt.PrePullImage.Metadata.Name}@{grant.Attempt.Node}"));
    }

    [Fact]
    public void Reservations_count_until_the_cache_shows_the_job_and_then_count_once()
    {
        var time = new FakeTimeProvider(Epoch);
        var scheduler = new PullScheduler(maxConcurrentPulls: 2, maxPullsPerNode: 2, time);
        var image = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" });
        scheduler.SetDemand(new PullDemand("shop/web", Epoch, [new PullAttempt(image, "a", 1), new PullAttempt(image, "b", 1), new PullAttempt(image, "c", 1)]));

        var grants = scheduler.Plan([], Template.Build);
        Assert.Equal(2, grants.Count);
        var seen = Created(grants[0].Job);

        Assert.Equal(2, scheduler.CountActive([seen]));
        scheduler.Observed(Kwarm.Runtime.ResourceKeys.For(seen));
        Assert.Equal(2, scheduler.CountActive([seen]));

        // A create that never shows up stops counting after a while.
        time.Advance(PullScheduler.ReservationLifetime + TimeSpan.FromSeconds(1));
        Assert.Equal(1, scheduler.CountActive([seen]));
    }

    [Fact]
    public void A_job_seen_by_the_cache_after_a_planner_took_its_list_still_holds_its_slot()
    {
        var time = new FakeTimeProvider(Epoch);
        var scheduler = new PullScheduler(maxConcurrentPulls: 1, maxPullsPerNode: 1, time);
        var image = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" });
        scheduler.SetDemand(new PullDemand("shop/web", Epoch, [new PullAttempt(image, "a", 1), new PullAttempt(image, "b", 1)]));
        var grant = Assert.Single(scheduler.Plan([], Template.Build));
        var key = Kwarm.Runtime.ResourceKeys.For(grant.Job);
        scheduler.Created(key, Created(grant.Job));

        // A worker lists the Jobs (not there yet), then the watch delivers the Job, then the worker plans with its list.
        IReadOnlyList<V1Job> listedBefore = [];
        scheduler.Observed(key);

        Assert.Empty(scheduler.Plan(listedBefore, Template.Build));
        Assert.Equal(1, scheduler.CountActive(listedBefore));
        Assert.Equal(1, scheduler.CountActive([Created(grant.Job)]));

        // Once deleted from the cache the Job holds nothing.
        scheduler.Gone(key);
        Assert.Equal(0, scheduler.CountActive([]));
    }

    [Fact]
    public void Among_images_with_as_much_left_to_pull_the_older_is_served_until_it_is_done()
    {
        var scheduler = new PullScheduler(maxConcurrentPulls: 1, maxPullsPerNode: 1, new FakeTimeProvider(Epoch));
        var old = Image("shop", "old", new PrePullImageSpec { Image = "r/old:1" }, Epoch);
        var young = Image("shop", "young", new PrePullImageSpec { Image = "r/young:1" }, Epoch.AddHours(1));
        scheduler.SetDemand(new PullDemand("shop/young", Epoch.AddHours(1), [.. Enumerable.Range(0, 4).Select(i => new PullAttempt(young, $"n{i}", 1))]));
        scheduler.SetDemand(new PullDemand("shop/old", Epoch, [.. Enumerable.Range(0, 4).Select(i => new PullAttempt(old, $"n{i}", 1))]));

        // First come, first served among equals: the older finishes first instead of both finishing late together, as
        // taking turns would have them.
        Assert.Equal(["old", "old", "old", "old", "young", "young", "young", "young"], GrantOneAtATime(scheduler, 8));
        Assert.Empty(scheduler.Plan([], Template.Build));
    }

    [Fact]
    public void A_small_image_arriving_behind_a_big_one_is_served_first()
    {
        var scheduler = new PullScheduler(maxConcurrentPulls: 1, maxPullsPerNode: 1, new FakeTimeProvider(Epoch));
        var big = Image("shop", "big", new PrePullImageSpec { Image = "r/big:1" }, Epoch);
        var small = Image("shop", "small", new PrePullImageSpec { Image = "r/small:1" }, Epoch.AddHours(1));
        scheduler.SetDemand(new PullDemand("shop/big", Epoch, [.. Enumerable.Range(0, 100).Select(i => new PullAttempt(big, $"n{i}", 1))]));
        Assert.Equal(["big", "big"], GrantOneAtATime(scheduler, 2));

        scheduler.SetDemand(new PullDemand("shop/small", Epoch.AddHours(1), [.. Enumerable.Range(0, 5).Select(i => new PullAttempt(small, $"n{i}", 1))]));

        // Fewest attempts left first: the small one's five, then the big one goes on. Round-robin by age gave the small
        // one every other slot.
        Assert.Equal(["small", "small", "small", "small", "small", "big", "big"], GrantOneAtATime(scheduler, 7));
    }

    [Fact]
    public void A_small_image_after_a_5000_node_one_and_100_others_gets_all_its_idle_nodes_in_the_first_pass()
    {
        const int Cap = 2000;
        var scheduler = new PullScheduler(maxConcurrentPulls: Cap, maxPullsPerNode: 2, new FakeTimeProvider(Epoch));
        var nodes = Enumerable.Range(0, 5000).Select(i => $"n{i:D4}").ToList();

        // The big rollout came first and 200 of its attempts run; 100 others of 10 nodes each came next; a node warm-up
        // wants one node.
        var big = Image("shop", "big", new PrePullImageSpec { Image = "r/big:1" }, Epoch);
        scheduler.SetDemand(new PullDemand("shop/big", Epoch, [.. nodes.Skip(200).Select(node => new PullAttempt(big, node, 1))]));
        for (var i = 0; i < 100; i++)
        {
            var other = Image("shop", $"other-{i:D3}", new PrePullImageSpec { Image = $"r/other-{i}:1" }, Epoch.AddSeconds(1 + (i / 100.0)));
            scheduler.SetDemand(new PullDemand(
                $"shop/other-{i:D3}", other.Metadata.CreationTimestamp!.Value, [.. nodes.Skip(i * 10).Take(10).Select(node => new PullAttempt(other, node, 1))]));
        }

        var warmup = Image("shop", "kwarm-warmup-1", new PrePullImageSpec { Image = "r/warm:1" }, Epoch.AddSeconds(5));
        scheduler.SetDemand(new PullDemand("shop/kwarm-warmup-1", Epoch.AddSeconds(5), [new PullAttempt(warmup, "n4990", 1)], WarmsNodes: true));

        // Arrives last, wanting 5 nodes the big one also wants (one of them the warm-up's).
        var small = Image("shop", "small", new PrePullImageSpec { Image = "r/small:1" }, Epoch.AddSeconds(10));
        string[] smallNodes = ["n4990", "n4991", "n4992", "n4993", "n4994"];
        scheduler.SetDemand(new PullDemand("shop/small", Epoch.AddSeconds(10), [.. smallNodes.Select(node => new PullAttempt(small, node, 1))]));

        var grants = scheduler.Plan([], Template.Build);
        var named = grants.Select(grant => $"{grant.Attempt.PrePullImage.Metadata.Name}@{grant.Attempt.Node}").ToList();

        // The warm-up first (its own class), then every idle node the small one wants. n4990 is the warm-up's now, and
        // a second pull there waits while other nodes idle. Round-robin by age served the small one last, once per round.
        Assert.Equal(["kwarm-warmup-1@n4990", "small@n4991", "small@n4992", "small@n4993", "small@n4994"], named.Take(5));
        Assert.Equal(4, named.Count(name => name.StartsWith("small@", StringComparison.Ordinal)));

        // Then the others, each whole and in the order they came, all 1,000 of their attempts; and the big one still
        // gets every slot left (work-conserving), within both caps.
        Assert.Equal(
            [.. Enumerable.Range(0, 100).Select(i => $"other-{i:D3}")],
            named.Skip(5).Take(1000).Select(name => name[..name.IndexOf('@', StringComparison.Ordinal)]).Distinct());
        Assert.Equal(Cap - 1005, named.Skip(1005).Count(name => name.StartsWith("big@", StringComparison.Ordinal)));
        Assert.Equal(Cap, grants.Count);
        Assert.Equal(grants.Count, grants.Select(grant => grant.Attempt.Node).Distinct().Count());
        Assert.Empty(scheduler.Plan([], Template.Build));
    }

    [Fact]
    public void Fewer_attempts_left_beats_age_and_age_orders_equals()
    {
        var scheduler = new PullScheduler(maxConcurrentPulls: 12, maxPullsPerNode: 1, new FakeTimeProvider(Epoch));
        var others = Enumerable.Range(0, 3).Select(i => Image("shop", $"other-{i}", new PrePullImageSpec { Image = $"r/o{i}:1" }, Epoch.AddSeconds(i))).ToList();
        foreach (var other in others.AsEnumerable().Reverse())
        {
            scheduler.SetDemand(new PullDemand(
                $"shop/{other.Metadata.Name}", other.Metadata.CreationTimestamp!.Value, [.. Enumerable.Range(0, 5).Select(n => new PullAttempt(other, $"{other.Metadata.Name}-n{n}", 1))]));
        }

        var small = Image("shop", "small", new PrePullImageSpec { Image = "r/small:1" }, Epoch.AddMinutes(1));
        scheduler.SetDemand(new PullDemand("shop/small", Epoch.AddMinutes(1), [.. Enumerable.Range(0, 3).Select(n => new PullAttempt(small, $"small-n{n}", 1))]));

        var grants = scheduler.Plan([], Template.Build);
        Assert.Equal(
            ["small", "small", "small", "other-0", "other-0", "other-0", "other-0", "other-0", "other-1", "other-1", "other-1", "other-1"],
            grants.Select(grant => grant.Attempt.PrePullImage.Metadata.Name));
    }

    private static List<string> GrantOneAtATime(PullScheduler scheduler, int count)
    {
        var served = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var grant = Assert.Single(scheduler.Plan([], Template.Build));
            served.Add(grant.Attempt.PrePullImage.Metadata.Name);
            scheduler.Release(Kwarm.Runtime.ResourceKeys.For(grant.Job));
        }

        return served;
    }

    [Fact]
    public void An_attempt_no_longer_wanted_is_not_granted_and_a_refused_create_waits_for_its_backoff()
    {
        var time = new FakeTimeProvider(Epoch);
        var scheduler = new PullScheduler(maxConcurrentPulls: 5, maxPullsPerNode: 1, time);
        var image = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" });
        scheduler.SetDemand(new PullDemand("shop/web", Epoch, [new PullAttempt(image, "done", 1), new PullAttempt(image, "a", 1)]));

        var grant = Assert.Single(scheduler.Plan([], Template.Build, stillWanted: attempt => attempt.Node != "done"));
        Assert.Equal("a", grant.Attempt.Node);

        var delay = scheduler.CreateFailed(Kwarm.Runtime.ResourceKeys.For(grant.Job));
        Assert.Equal(TimeSpan.FromSeconds(1), delay);
        scheduler.SetDemand(new PullDemand("shop/web", Epoch, [new PullAttempt(image, "a", 1)]));
        Assert.Empty(scheduler.Plan([], Template.Build));

        time.Advance(delay);
        var again = Assert.Single(scheduler.Plan([], Template.Build));
        Assert.Equal(TimeSpan.FromSeconds(2), scheduler.CreateFailed(Kwarm.Runtime.ResourceKeys.For(again.Job)));
    }

    [Fact]
    public void Idle_nodes_get_a_pull_before_any_node_gets_its_second()
    {
        var time = new FakeTimeProvider(Epoch);
        var scheduler = new PullScheduler(maxConcurrentPulls: 4, maxPullsPerNode: 2, time);

        // Two images wanting the same two nodes, a third wanting two other nodes: four slots, four nodes.
        var web = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" }, Epoch);
        var api = Image("shop", "api", new PrePullImageSpec { Image = "r/api:1" }, Epoch.AddMinutes(1));
        var db = Image("shop", "db", new PrePullImageSpec { Image = "r/db:1" }, Epoch.AddMinutes(2));
        scheduler.SetDemand(new PullDemand("shop/web", Epoch, [new PullAttempt(web, "a", 1), new PullAttempt(web, "b", 1)]));
        scheduler.SetDemand(new PullDemand("shop/api", Epoch.AddMinutes(1), [new PullAttempt(api, "a", 1), new PullAttempt(api, "b", 1)]));
        scheduler.SetDemand(new PullDemand("shop/db", Epoch.AddMinutes(2), [new PullAttempt(db, "c", 1), new PullAttempt(db, "d", 1)]));

        var grants = scheduler.Plan([], Template.Build);

        // Shortest-first order alone would give web→a, web→b, api→a, api→b: nodes a and b pulling two images one after
        // the other while nodes c and d idle. Spread, every node pulls one.
        Assert.Equal(["a", "b", "c", "d"], grants.Select(grant => grant.Attempt.Node).Order(StringComparer.Ordinal));

        // With every node busy, a second pull per node is still granted once slots free up elsewhere.
        var second = new PullScheduler(maxConcurrentPulls: 4, maxPullsPerNode: 2, time);
        second.SetDemand(new PullDemand("shop/web", Epoch, [new PullAttempt(web, "a", 1)]));
        second.SetDemand(new PullDemand("shop/api", Epoch.AddMinutes(1), [new PullAttempt(api, "a", 1)]));
        second.SetDemand(new PullDemand("shop/db", Epoch.AddMinutes(2), [new PullAttempt(db, "a", 1)]));
        Assert.Equal(["a", "a"], second.Plan([], Template.Build).Select(grant => grant.Attempt.Node));
    }

    [Fact]
    public void A_pull_that_reported_its_image_id_frees_its_slots_before_its_job_and_pod_are_gone()
    {
        var time = new FakeTimeProvider(Epoch);
        var scheduler = new PullScheduler(maxConcurrentPulls: 1, maxPullsPerNode: 1, time);
        var image = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" });
        var running = Created(Template.Build(new PullAttempt(image, "a", 1)));
        scheduler.SetDemand(new PullDemand("shop/web", Epoch, [new PullAttempt(image, "b", 1)]));

        // Still pulling: the one slot is taken, by the Job and by its pod once the Job is gone.
        Assert.Equal(1, scheduler.CountActive([running], [PodOf(running, imageId: "")]));
        Assert.Empty(scheduler.Plan([running], Template.Build, [PodOf(running, imageId: "")]));
        Assert.Equal(1, scheduler.CountActive([], [PodOf(running, imageId: "")]));

        // The pull container reports its imageID: the image is on node a, nothing pulls any more.
        var pulled = PodOf(running, imageId: "r/web@sha256:1");
        Assert.True(PullScheduler.HasPulled(pulled));
        Assert.Equal(0, scheduler.CountActive([running], [pulled]));
        Assert.Equal(0, scheduler.CountActive([], [pulled]));
        var grant = Assert.Single(scheduler.Plan([running], Template.Build, [pulled]));
        Assert.Equal("b", grant.Attempt.Node);
    }

    private static V1Pod PodOf(V1Job job, string imageId) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = job.Metadata.Name + "-x",
            NamespaceProperty = job.Metadata.NamespaceProperty,
            Labels = job.Spec.Template.Metadata.Labels,
            OwnerReferences = [new V1OwnerReference { Kind = "Job", Name = job.Metadata.Name, Uid = job.Metadata.Uid, Controller = true }],
        },
        Spec = new V1PodSpec { NodeName = "a" },
        Status = new V1PodStatus
        {
            Phase = "Running",
            ContainerStatuses = [new V1ContainerStatus { Name = PullJobTemplate.PullContainer, Image = "r/web:1", ImageID = imageId }],
        },
    };

    private static V1Job Created(V1Job job)
    {
        job.Metadata.Uid = Guid.NewGuid().ToString();
        job.Metadata.CreationTimestamp = Epoch;
        return job;
    }
}
