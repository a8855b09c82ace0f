using k8s.Models;
using Kwarm.Pulling;
using Kwarm.Resources;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

public sealed class PullPlannerTests
{
    private static readonly PullJobTemplate Template = new("tools.local/kwarm:1");

    [Fact]
    public void A_pulled_attempt_is_recorded_once_even_while_its_deleted_job_lingers_in_the_cache()
    {
        var image = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" });
        var job = Job(image, "a", 1);
        var pod = PulledPod();

        var first = PullPlanner.Plan(new PullWorld(image, [Node("a")], [job], _ => pod, Epoch.AddSeconds(20)));
        var recorded = image with { Status = first.Status };
        var second = PullPlanner.Plan(new PullWorld(recorded, [Node("a")], [job], _ => pod, Epoch.AddSeconds(21)));

        Assert.Single(first.Finished);
        Assert.Equal(NodePullState.Completed, first.Status.Nodes![0].Status);
        Assert.Empty(second.Finished);
        Assert.Equal([job], second.JobsToDelete);
        Assert.Equal(k8s.KubernetesJson.Serialize(first.Status), k8s.KubernetesJson.Serialize(second.Status));
    }

    [Fact]
    public void A_job_found_without_a_status_entry_is_adopted_with_its_attempt_number()
    {
        var image = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" });
        var job = Job(image, "a", 2);

        var plan = PullPlanner.Plan(new PullWorld(image, [Node("a")], [job], _ => null, Epoch.AddSeconds(5)));

        var entry = Assert.Single(plan.Status.Nodes!);
        Assert.Equal((NodePullState.Pulling, 1, job.Metadata.Name), (entry.Status, entry.RetryCount, entry.JobName));
        Assert.Empty(plan.Wanted);
        Assert.Equal(PrePullImagePhase.InProgress, plan.Status.Phase);
    }

    [Fact]
    public void A_mutable_tag_pulled_with_always_is_not_skipped_but_a_digest_is()
    {
        var warm = Node("a", images: ["r/web:1", "r/web@sha256:abc"]);
        var always = Image("shop", "tag", new PrePullImageSpec { Image = "r/web:1", ImagePullPolicy = ImagePullPolicy.Always });
        var pinned = Image("shop", "digest", new PrePullImageSpec { Image = "r/web:1", ImageDigest = "sha256:abc", ImagePullPolicy = ImagePullPolicy.Always });

        var tagPlan = PullPlanner.Plan(new PullWorld(always, [warm], [], _ => null, Epoch));
        var digestPlan = PullPlanner.Plan(new PullWorld(pinned, [warm], [], _ => null, Epoch));

        Assert.Equal(NodePullState.Pending, tagPlan.Status.Nodes![0].Status);
        Assert.Single(tagPlan.Wanted);
        Assert.Equal(NodePullState.Skipped, digestPlan.Status.Nodes![0].Status);
        Assert.Equal(PrePullImagePhase.Completed, digestPlan.Status.Phase);
    }

    [Fact]
    public void No_target_node_completes_at_once_and_a_retry_waits_for_its_backoff()
    {
        var none = PullPlanner.Plan(new PullWorld(Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" }), [Node("a", ready: false)], [], _ => null, Epoch));
        Assert.Equal(PrePullImagePhase.Completed, none.Status.Phase);
        Assert.Equal("NoTargetNodes", none.Status.Conditions![0].Reason);

        var waiting = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1", Retry = new RetrySpec { MaxAttempts = 3, BackoffSeconds = 30 } }) with
        {
            Status = new PrePullImageStatus
            {
                Phase = PrePullImagePhase.InProgress,
                Nodes = [new NodePullStatus { Node = "a", Status = NodePullState.Pending, RetryCount = 1, CompletedAt = Epoch, Error = "boom" }],
            },
        };

        var early = PullPlanner.Plan(new PullWorld(waiting, [Node("a")], [], _ => null, Epoch.AddSeconds(10)));
        var due = PullPlanner.Plan(new PullWorld(waiting, [Node("a")], [], _ => null, Epoch.AddSeconds(31)));

        Assert.Empty(early.Wanted);
        Assert.Equal(Epoch.AddSeconds(31), early.WakeAt);
        Assert.Equal(2, Assert.Single(due.Wanted).Attempt);
        Assert.Equal("boom", due.Status.Nodes![0].Error);
    }

    [Fact]
    public void A_job_started_for_an_earlier_image_is_deleted_and_its_outcome_ignored()
    {
        var before = Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" });
        var job = Job(before, "a", 1);
        var changed = before with { Spec = new PrePullImageSpec { Image = "r/web:2" } };

        var plan = PullPlanner.Plan(new PullWorld(changed, [Node("a")], [job], _ => PulledPod(), Epoch.AddSeconds(20)));

        Assert.Equal([job], plan.JobsToDelete);
        Assert.Empty(plan.Finished);
        Assert.Equal(NodePullState.Pending, Assert.Single(plan.Status.Nodes!).Status);
        Assert.Equal("r/web:2", Assert.Single(plan.Wanted).PrePullImage.Spec.PullReference);
    }

    private static V1Job Job(PrePullImage image, string node, int attempt)
    {
        var job = Template.Build(new PullAttempt(image, node, attempt));
        job.Metadata.Uid = "job-uid";
        job.Metadata.CreationTimestamp = Epoch;
        return job;
    }

    private static V1Pod PulledPod() => new()
    {
        Status = new V1PodStatus
        {
            ContainerStatuses =
            [
                new V1ContainerStatus
                {
                    Name = PullJobTemplate.PullContainer,
                    ImageID = "sha256:1",
                    State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 0, StartedAt = Epoch.AddSeconds(12) } },
                },
            ],
        },
    };
}
