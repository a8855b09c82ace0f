using k8s.Models;
using Kwarm.Pulling;
using Kwarm.Resources;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

/// <summary>The pull engine against <see cref="FakePullCluster"/> (hand-written fakes of the API and kubelets).</summary>
public sealed class PullEngineTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task An_image_without_a_shell_and_one_whose_entrypoint_fails_are_both_pulled()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["gcr.io/distroless/static:nonroot"] = new FakeImage(TimeSpan.FromSeconds(4), HasShell: false);
        cluster.Registry["registry.local/crashes:1"] = new FakeImage(TimeSpan.FromSeconds(4), EntrypointExitCode: 1);
        cluster.AddNode(Node("node-1"));
        cluster.AddNode(Node("node-2"));
        cluster.AddImage(Image("shop", "distroless", new PrePullImageSpec { Image = "gcr.io/distroless/static:nonroot" }));
        cluster.AddImage(Image("shop", "crashes", new PrePullImageSpec { Image = "registry.local/crashes:1" }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), Second);

        foreach (var name in new[] { "distroless", "crashes" })
        {
            var status = cluster.Image("shop", name).Status!;
            Assert.Equal(PrePullImagePhase.Completed, status.Phase);
            Assert.Equal(2, status.Summary!.Completed);
            Assert.All(status.Nodes!, node => Assert.Equal(NodePullState.Completed, node.Status));
            Assert.All(status.Nodes!, node => Assert.Null(node.JobName));
            Assert.Equal("True", status.Conditions!.Single().Status);
            Assert.NotNull(status.CompletionTime);
        }

        Assert.Empty(cluster.KubeletComplaints);
        Assert.Equal(0, cluster.Jobs.Count);
    }

    [Fact]
    public async Task A_job_whose_deletion_the_watch_reports_during_the_status_write_is_not_deleted_again()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.local/web:2"] = new FakeImage(TimeSpan.FromSeconds(3));
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:2" }));
        var deletedElsewhere = 0;
        cluster.DuringStatusWrite = written =>
        {
            // The write that records the pull: its Job goes meanwhile (its Deleted event lands before the engine deletes it).
            if (written.Status?.Nodes?.Any(node => node.Status == NodePullState.Completed) == true)
            {
                foreach (var job in cluster.Jobs.List())
                {
                    cluster.DeleteJobElsewhere(Kwarm.Runtime.ResourceKeys.For(job));
                    deletedElsewhere++;
                }
            }
        };

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(20), Second);

        Assert.Equal(PrePullImagePhase.Completed, cluster.Image("shop", "web").Status!.Phase);
        Assert.Equal(1, deletedElsewhere);
        Assert.Equal(0, cluster.DeletesOfMissingJobs);
    }

    [Fact]
    public async Task A_private_image_pulls_with_the_namespaces_secret()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.local/private/app:1"] = new FakeImage(TimeSpan.FromSeconds(3), SecretRequired: "registry-cred");
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "app", new PrePullImageSpec
        {
            Image = "registry.local/private/app:1",
            ImagePullSecrets = [new V1LocalObjectReference { Name = "registry-cred" }],
        }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(20), Second);

        Assert.Equal(PrePullImagePhase.Completed, cluster.Image("shop", "app").Status!.Phase);
    }

    [Fact]
    public async Task Without_the_secret_a_node_fails_after_exactly_max_attempts_with_growing_delays_and_the_kubelets_message()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.local/private/app:1"] = new FakeImage(TimeSpan.FromSeconds(3), SecretRequired: "registry-cred");
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "app", new PrePullImageSpec
        {
            Image = "registry.local/private/app:1",
            Retry = new RetrySpec { MaxAttempts = 4, BackoffSeconds = 10 },
        }));

        await cluster.AdvanceAsync(TimeSpan.FromMinutes(5), Second);

        var attempts = cluster.Created.Where(created => created.Node == "node-1").ToList();
        Assert.Equal([1, 2, 3, 4], attempts.Select(attempt => attempt.Attempt));
        var gaps = attempts.Zip(attempts.Skip(1), (earlier, later) => later.At - earlier.At).ToList();
        Assert.InRange(gaps[0], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(14));
        Assert.InRange(gaps[1], TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(24));
        Assert.InRange(gaps[2], TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(44));

        var status = cluster.Image("shop", "app").Status!;
        var node = Assert.Single(status.Nodes!);
        Assert.Equal(NodePullState.Failed, node.Status);
        Assert.Equal(FakePullCluster.UnauthorizedMessage, node.Error);
        Assert.Equal(4, node.RetryCount);
        Assert.Null(node.JobName);
        Assert.Equal(PrePullImagePhase.Failed, status.Phase);
        Assert.Equal(("True", "PullFailed"), (status.Conditions![0].Status, status.Conditions[0].Reason));
        Assert.Equal(0, cluster.Jobs.Count);
    }

    [Fact]
    public async Task An_attempt_that_never_pulls_times_out_and_its_job_is_deleted()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.slow/app:1"] = new FakeImage(TimeSpan.Zero, Hang: true);
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "slow", new PrePullImageSpec
        {
            Image = "registry.slow/app:1",
            Timeout = "90s",
            Retry = new RetrySpec { MaxAttempts = 1 },
        }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(85), Second);
        Assert.Equal(NodePullState.Pulling, cluster.Image("shop", "slow").Status!.Nodes![0].Status);

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(20), Second);

        var node = cluster.Image("shop", "slow").Status!.Nodes![0];
        Assert.Equal(NodePullState.Failed, node.Status);
        Assert.Contains("1m30s", node.Error, StringComparison.Ordinal);
        Assert.Equal(0, cluster.Jobs.Count);
    }

    [Fact]
    public async Task The_timeout_safety_net_fails_an_attempt_even_when_the_job_never_reports_its_deadline()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.slow/app:1"] = new FakeImage(TimeSpan.Zero, Hang: true);
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "slow", new PrePullImageSpec { Image = "registry.slow/app:1", Timeout = "60s", Retry = new RetrySpec { MaxAttempts = 1 } }));
        await cluster.SettleAsync();
        // The Job controller is down: the Job's deadline is never enforced, only the engine's own timer remains.
        cluster.HideNewJobs = false;
        var job = cluster.Jobs.List().Single();
        job.Spec.ActiveDeadlineSeconds = null;

        cluster.Time.Advance(TimeSpan.FromSeconds(60) + PullAttemptObserver.DeadlineGrace);
        await cluster.SettleAsync();

        Assert.Equal(NodePullState.Failed, cluster.Image("shop", "slow").Status!.Nodes![0].Status);
    }

    [Fact]
    public async Task A_node_joining_mid_pull_gets_the_image_but_one_joining_after_the_end_does_not()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.local/web:1"] = new FakeImage(TimeSpan.FromSeconds(30));
        cluster.AddNode(Node("node-1"));
        cluster.AddNode(Node("node-2"));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(10), Second);
        Assert.Equal(PrePullImagePhase.InProgress, cluster.Image("shop", "web").Status!.Phase);

        cluster.AddNode(Node("node-3"));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(60), Second);

        var status = cluster.Image("shop", "web").Status!;
        Assert.Equal(PrePullImagePhase.Completed, status.Phase);
        Assert.Equal(["node-1", "node-2", "node-3"], status.Nodes!.Select(node => node.Node));
        Assert.All(status.Nodes!, node => Assert.Equal(NodePullState.Completed, node.Status));

        cluster.AddNode(Node("node-4"));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(60), Second);

        Assert.Equal(3, cluster.Image("shop", "web").Status!.Summary!.Total);
        Assert.DoesNotContain(cluster.Created, created => created.Node == "node-4");
    }

    [Fact]
    public async Task Tainted_cordoned_not_ready_and_windows_nodes_are_not_targeted_and_a_node_with_the_image_is_skipped()
    {
        var cluster = new FakePullCluster();
        cluster.AddNode(Node("plain"));
        cluster.AddNode(Node("warm", images: ["registry.local/web:1"]));
        cluster.AddNode(Node("tainted", taints: [new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" }]));
        cluster.AddNode(Node("cordoned", unschedulable: true));
        cluster.AddNode(Node("notready", ready: false));
        cluster.AddNode(Node("windows", labels: new Dictionary<string, string> { ["kubernetes.io/os"] = "windows" }));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), Second);

        var status = cluster.Image("shop", "web").Status!;
        Assert.Equal(
            [("plain", NodePullState.Completed), ("warm", NodePullState.Skipped)],
            status.Nodes!.Select(node => (node.Node, node.Status)));
        Assert.Equal(new PullSummary { Total = 2, Completed = 1, Skipped = 1 }, status.Summary);
        Assert.Equal(["plain"], cluster.Created.Select(created => created.Node));
    }

    [Fact]
    public async Task Nodes_listing_the_image_as_containerd_does_are_skipped_by_tag_or_by_repo_digest()
    {
        const string Digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        var cluster = new FakePullCluster();
        cluster.Registry["nginx:1.27.1"] = new FakeImage(TimeSpan.FromSeconds(5));
        cluster.Registry["docker.io/library/nginx@" + Digest] = new FakeImage(TimeSpan.FromSeconds(5));
        cluster.AddNode(Node("by-tag", images: ["docker.io/library/nginx:1.27.1"]));
        cluster.AddNode(Node("by-digest", images: ["docker.io/library/nginx@" + Digest]));
        cluster.AddNode(Node("other-tag", images: ["docker.io/library/nginx:1.27.0"]));
        cluster.AddImage(Image("shop", "tag", new PrePullImageSpec { Image = "nginx:1.27.1" }));
        cluster.AddImage(Image("shop", "digest", new PrePullImageSpec { Image = "nginx:1.27.1", ImageDigest = Digest }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), Second);

        Assert.Equal(
            [("by-digest", NodePullState.Completed), ("by-tag", NodePullState.Skipped), ("other-tag", NodePullState.Completed)],
            cluster.Image("shop", "tag").Status!.Nodes!.Select(node => (node.Node, node.Status)).OrderBy(node => node.Node, StringComparer.Ordinal));
        Assert.Equal(
            [("by-digest", NodePullState.Skipped), ("by-tag", NodePullState.Completed), ("other-tag", NodePullState.Completed)],
            cluster.Image("shop", "digest").Status!.Nodes!.Select(node => (node.Node, node.Status)).OrderBy(node => node.Node, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Caps_hold_across_200_nodes_and_3_images_through_a_restart_and_a_lagging_cache_and_no_job_is_duplicated()
    {
        var cluster = new FakePullCluster(maxConcurrentPulls: 10, maxPullsPerNode: 2);
        for (var i = 0; i < 200; i++)
        {
            cluster.AddNode(Node($"node-{i:D3}"));
        }

        string[] images = ["old", "middle", "young"];
        for (var i = 0; i < images.Length; i++)
        {
            cluster.Registry[$"registry.local/{images[i]}:1"] = new FakeImage(TimeSpan.FromSeconds(2 + i));
            cluster.AddImage(Image("shop", images[i], new PrePullImageSpec { Image = $"registry.local/{images[i]}:1" }, created: Epoch.AddMinutes(i)));
        }

        // Creates are seen by the watch only a little later, as in a real cluster.
        cluster.HideNewJobs = true;
        for (var step = 0; step < 40; step++)
        {
            cluster.Time.Advance(Second);
            await cluster.SettleAsync();
            if (step % 2 == 1)
            {
                cluster.RevealJobs();
            }
        }

        cluster.Restart();
        await cluster.RunUntilAsync(
            () =>
            {
                cluster.RevealJobs();
                return images.All(name => cluster.Image("shop", name).Status?.Phase == PrePullImagePhase.Completed);
            },
            Second,
            TimeSpan.FromHours(1));

        Assert.InRange(cluster.MaxActive, 1, 10);
        Assert.Equal(10, cluster.MaxActive);
        Assert.InRange(cluster.MaxActivePerNode, 1, 2);
        Assert.Equal(600, cluster.Created.Count);
        Assert.Equal(600, cluster.Created.Select(created => (created.Image, created.Node)).Distinct().Count());

        // Fewest attempts left first: the image served first has fewer left than the others from then on and is served
        // to its end, then the next; three images of as many nodes start in three blocks, through the restart too
        // (round-robin interleaved them one by one, finishing all three late together).
        var order = cluster.Created.Select(created => created.Image).ToList();
        var blocks = 1 + order.Zip(order.Skip(1)).Count(pair => pair.First != pair.Second);
        Assert.True(blocks == 3, $"{blocks} blocks: {string.Join(" ", order.Select(image => image[0]))}");
    }

    [Fact]
    public async Task After_a_restart_the_image_with_fewer_pulls_left_goes_on_first_as_its_status_says()
    {
        var cluster = new FakePullCluster(maxConcurrentPulls: 1, maxPullsPerNode: 1);
        cluster.Registry["registry.local/first:1"] = new FakeImage(TimeSpan.FromSeconds(2));
        cluster.Registry["registry.local/second:1"] = new FakeImage(TimeSpan.FromSeconds(2));
        for (var i = 0; i < 8; i++)
        {
            cluster.AddNode(Node($"node-{i}"));
        }

        cluster.AddImage(Image("shop", "first", new PrePullImageSpec { Image = "registry.local/first:1" }, created: Epoch));
        await cluster.RunUntilAsync(() => cluster.Created.Count >= 4, Second, TimeSpan.FromMinutes(5));
        Assert.Equal(4, cluster.Created.Count);

        // While its fourth pull holds the one slot, a new leader takes over (knowing nothing but the caches) and an
        // image arrives that wants every node.
        cluster.Restart();
        cluster.AddImage(Image("shop", "second", new PrePullImageSpec { Image = "registry.local/second:1" }, created: Epoch.AddHours(1)));
        string[] names = ["first", "second"];
        await cluster.RunUntilAsync(
            () => names.All(name => cluster.Image("shop", name).Status?.Phase == PrePullImagePhase.Completed),
            Second,
            TimeSpan.FromMinutes(10));

        // The first image's status says 4 of its 8 nodes are started: with 4 left against 8 it goes on to the end, then
        // the second. A scheduler that only remembered its own grants would see two fresh images after the restart.
        Assert.Equal([.. Enumerable.Repeat("first", 4), .. Enumerable.Repeat("second", 8)], cluster.Created.Skip(4).Select(created => created.Image));
    }

    [Fact]
    public async Task A_prepullimage_watch_lagging_several_writes_behind_never_starts_a_pull_twice()
    {
        var cluster = new FakePullCluster(maxConcurrentPulls: 3, maxPullsPerNode: 1);
        for (var i = 0; i < 12; i++)
        {
            cluster.AddNode(Node($"node-{i:D2}"));
        }

        cluster.Registry["registry.local/web:1"] = new FakeImage(TimeSpan.FromSeconds(2));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }));
        cluster.HideStatusWrites = true;

        await cluster.RunUntilAsync(
            () =>
            {
                if (cluster.Time.GetUtcNow().Second % 7 == 0)
                {
                    cluster.RevealImages();
                }

                return cluster.Images.Get("shop", "web")?.Status?.Phase == PrePullImagePhase.Completed;
            },
            TimeSpan.FromSeconds(1),
            TimeSpan.FromMinutes(5));

        Assert.Equal(12, cluster.Created.Count);
        Assert.Equal(12, cluster.Created.Select(created => created.Node).Distinct().Count());
        Assert.InRange(cluster.MaxActive, 1, 3);
    }

    [Fact]
    public async Task A_refused_job_create_is_retried_with_growing_delays_not_in_a_loop()
    {
        var cluster = new FakePullCluster();
        cluster.AddNode(Node("node-1"));
        cluster.RefuseCreates = true;
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));

        // 1 + 2 + 4 + 8 + 16 + 32 s of backoff fit in a minute: at most 7 tries, not thousands.
        Assert.InRange(cluster.RefusedCreates, 5, 7);
        Assert.Equal(NodePullState.Pending, cluster.Image("shop", "web").Status!.Nodes![0].Status);

        cluster.RefuseCreates = false;
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(90), Second);

        Assert.Equal(PrePullImagePhase.Completed, cluster.Image("shop", "web").Status!.Phase);
    }

    [Fact]
    public async Task A_prepullimage_without_an_image_fails_at_once_with_the_reason()
    {
        var cluster = new FakePullCluster();
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "empty", new PrePullImageSpec { Image = " " }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(5), Second);

        var status = cluster.Image("shop", "empty").Status!;
        Assert.Equal(PrePullImagePhase.Failed, status.Phase);
        Assert.Equal(("False", "InvalidImage"), (status.Conditions![0].Status, status.Conditions[0].Reason));
        Assert.Contains("spec.image", status.Conditions[0].Message, StringComparison.Ordinal);
        Assert.Empty(cluster.Created);
        Assert.Equal(1, cluster.StatusWrites);
    }

    [Theory]
    [InlineData("nginx:", null, "spec.image")]
    [InlineData("UPPER/Case Image::tag@@sha", null, "spec.image")]
    [InlineData("registry.local/web:1", "md5:abc", "spec.imageDigest")]
    public async Task A_prepullimage_with_an_invalid_reference_fails_at_once_without_a_job(string image, string? digest, string field)
    {
        var cluster = new FakePullCluster();
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "bad", new PrePullImageSpec { Image = image, ImageDigest = digest }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), Second);

        var status = cluster.Image("shop", "bad").Status!;
        Assert.Equal(PrePullImagePhase.Failed, status.Phase);
        var ready = Assert.Single(status.Conditions!);
        Assert.Equal(("Ready", "False", PrePullImageReconciler.InvalidImageReason), (ready.Type, ready.Status, ready.Reason));
        Assert.StartsWith(field + ": ", ready.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.Created);
        Assert.Empty(cluster.KubeletComplaints);
        Assert.Equal(1, cluster.StatusWrites);
    }

    [Fact]
    public async Task A_prepullimage_with_a_toleration_no_pod_may_carry_fails_as_an_invalid_spec()
    {
        var cluster = new FakePullCluster();
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "bad", new PrePullImageSpec
        {
            Image = "registry.local/web:1",
            Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Maybe", Value = "gpu" }],
        }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), Second);

        var status = cluster.Image("shop", "bad").Status!;
        Assert.Equal(PrePullImagePhase.Failed, status.Phase);
        var ready = Assert.Single(status.Conditions!);
        Assert.Equal(("False", PrePullImageReconciler.InvalidSpecReason), (ready.Status, ready.Reason));
        Assert.StartsWith("spec.tolerations[0].operator: ", ready.Message, StringComparison.Ordinal);
        Assert.Empty(cluster.Created);
    }

    [Fact]
    public async Task Status_is_written_only_when_it_changes()
    {
        var cluster = new FakePullCluster();
        cluster.AddNode(Node("node-1"));
        cluster.AddNode(Node("node-2"));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), Second);
        var writes = cluster.StatusWrites;
        Assert.InRange(writes, 2, 6);

        for (var i = 0; i < 5; i++)
        {
            cluster.Engine.Events.OnImage(new Kwarm.Runtime.ResourceEvent<PrePullImage>(Kwarm.Runtime.ResourceEventType.Updated, cluster.Image("shop", "web")));
            cluster.UpdateNode(Node("node-1", images: ["registry.local/web:1"]));
            await cluster.AdvanceAsync(TimeSpan.FromSeconds(5), Second);
        }

        Assert.Equal(writes, cluster.StatusWrites);
    }

    [Fact]
    public async Task Deleting_a_prepullimage_cancels_its_jobs()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.local/web:1"] = new FakeImage(TimeSpan.FromMinutes(5));
        cluster.AddNode(Node("node-1"));
        cluster.AddNode(Node("node-2"));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(5), Second);
        Assert.Equal(2, cluster.Jobs.Count);

        cluster.RemoveImageWithoutGarbageCollection("shop", "web");
        await cluster.SettleAsync();

        Assert.Equal(0, cluster.Jobs.Count);
        Assert.Equal(0, cluster.Pods.Count);
    }

    [Fact]
    public async Task A_prepullimage_deleted_and_created_again_under_the_same_name_does_not_keep_the_old_jobs()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.local/web:1"] = new FakeImage(TimeSpan.FromMinutes(5));
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }, uid: "first"));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(5), Second);
        var oldJob = Assert.Single(cluster.Jobs.List());

        cluster.RemoveImageWithoutGarbageCollection("shop", "web");
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "registry.local/web:1" }, uid: "second"));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(5), Second);

        var job = Assert.Single(cluster.Jobs.List());
        Assert.NotEqual(oldJob.Metadata.Uid, job.Metadata.Uid);
        Assert.Equal("second", job.Metadata.OwnerReferences.Single().Uid);
    }

    [Fact]
    public async Task A_finished_prepullimage_owned_by_a_deployment_is_deleted_after_the_ttl_and_a_hand_made_one_is_kept()
    {
        var cluster = new FakePullCluster(finishedTtl: TimeSpan.FromMinutes(10));
        cluster.AddNode(Node("node-1"));
        var owned = Image("shop", "owned", new PrePullImageSpec { Image = "registry.local/web:1" });
        owned.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web", Uid = "dep-1", Controller = true }];
        cluster.AddImage(owned);
        cluster.AddImage(Image("shop", "manual", new PrePullImageSpec { Image = "registry.local/web:1" }));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), Second);
        Assert.Equal(PrePullImagePhase.Completed, cluster.Image("shop", "owned").Status!.Phase);

        await cluster.AdvanceAsync(TimeSpan.FromMinutes(9), TimeSpan.FromSeconds(30));
        Assert.NotNull(cluster.Images.Get("shop", "owned"));

        await cluster.AdvanceAsync(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30));
        Assert.Null(cluster.Images.Get("shop", "owned"));
        Assert.NotNull(cluster.Images.Get("shop", "manual"));
    }

    [Fact]
    public async Task A_finished_prepullimage_of_an_active_hold_outlives_the_ttl_until_the_hold_ends()
    {
        var cluster = new FakePullCluster(finishedTtl: TimeSpan.FromSeconds(30));
        cluster.Registry["registry.local/missing:1"] = new FakeImage(TimeSpan.Zero, Missing: true);
        cluster.AddNode(Node("node-1"));
        var held = Image("shop", "held", new PrePullImageSpec { Image = "registry.local/missing:1", Retry = new RetrySpec { MaxAttempts = 1 } });
        held.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web", Uid = "dep-1", Controller = true }];
        held.Metadata.Labels = new Dictionary<string, string> { [KwarmApi.HoldLabel] = "hold-1" };
        cluster.Deployments.Upsert(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Annotations = new Dictionary<string, string> { [KwarmApi.HoldAnnotation] = "hold-1" } },
        });
        cluster.AddImage(held);
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(20), Second);
        Assert.Equal(PrePullImagePhase.Failed, cluster.Image("shop", "held").Status!.Phase);

        // Ten TTLs later the hold (onFailure: Wait) still lasts: its failed image must stay, or it would be created
        // again and the known-bad image pulled once more.
        await cluster.AdvanceAsync(TimeSpan.FromMinutes(5), Second);
        Assert.NotNull(cluster.Images.Get("shop", "held"));
        Assert.Single(cluster.Created);

        cluster.Deployments.Upsert(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Annotations = new Dictionary<string, string> { [KwarmApi.ReleasedAnnotation] = "hold-1" } },
        });
        await cluster.AdvanceAsync(TimeSpan.FromMinutes(1), Second);
        Assert.Null(cluster.Images.Get("shop", "held"));
    }

    [Fact]
    public async Task A_restarted_engine_continues_attempt_counts_from_the_status()
    {
        var cluster = new FakePullCluster();
        cluster.Registry["registry.local/missing:1"] = new FakeImage(TimeSpan.Zero, Missing: true);
        cluster.AddNode(Node("node-1"));
        cluster.AddImage(Image("shop", "missing", new PrePullImageSpec { Image = "registry.local/missing:1", Retry = new RetrySpec { MaxAttempts = 3, BackoffSeconds = 5 } }));
        await cluster.AdvanceAsync(TimeSpan.FromSeconds(8), Second);
        Assert.Equal(2, cluster.Created.Count);

        cluster.Restart();
        await cluster.AdvanceAsync(TimeSpan.FromMinutes(2), Second);

        Assert.Equal([1, 2, 3], cluster.Created.Select(created => created.Attempt));
        var node = cluster.Image("shop", "missing").Status!.Nodes![0];
        Assert.Equal(NodePullState.Failed, node.Status);
        Assert.Contains("not found", node.Error, StringComparison.Ordinal);
    }
}
