using k8s.Models;
using Kwarm.Pulling;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

public sealed class PullAttemptObserverTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void An_image_id_means_pulled_whether_the_container_runs_or_exited_with_any_code()
    {
        var running = Pod(new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = Epoch.AddSeconds(12) } }, "sha256:aa");
        var crashed = Pod(new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 127, Reason = "Error", StartedAt = Epoch.AddSeconds(9) } }, "sha256:aa");

        var fromRunning = PullAttemptObserver.Observe(Job(), running, Epoch, Timeout, Epoch.AddSeconds(20));
        var fromCrashed = PullAttemptObserver.Observe(Job(), crashed, Epoch, Timeout, Epoch.AddSeconds(20));

        Assert.Equal(new AttemptOutcome(AttemptState.Pulled, PulledAt: Epoch.AddSeconds(12)), fromRunning);
        Assert.Equal(new AttemptOutcome(AttemptState.Pulled, PulledAt: Epoch.AddSeconds(9)), fromCrashed);
    }

    [Theory]
    [InlineData("ErrImagePull")]
    [InlineData("ImagePullBackOff")]
    [InlineData("InvalidImageName")]
    public void Pull_failures_keep_the_kubelets_message(string reason)
    {
        var message = "rpc error: code = Unknown desc = failed to pull and unpack image: 401 Unauthorized";
        var pod = Pod(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } }, null);

        var outcome = PullAttemptObserver.Observe(Job(), pod, Epoch, Timeout, Epoch.AddSeconds(5));

        Assert.Equal(new AttemptOutcome(AttemptState.Failed, message), outcome);
    }

    [Fact]
    public void A_back_off_is_reported_with_the_kubelets_earlier_error_which_the_watch_kept()
    {
        const string NotFound = "rpc error: code = NotFound desc = failed to resolve reference \"r/web:2\": not found";
        var errors = new KubeletPullErrors();
        var failing = Pod(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ErrImagePull", Message = NotFound } }, null);
        var backingOff = Pod(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ImagePullBackOff", Message = "Back-off pulling image \"r/web:2\"" } }, null);
        failing.Metadata = backingOff.Metadata = new V1ObjectMeta { Uid = "pod-1" };
        var stranger = Pod(backingOff.Status.ContainerStatuses[0].State, null);
        stranger.Metadata = new V1ObjectMeta { Uid = "pod-2" };

        errors.Observe(new(Kwarm.Runtime.ResourceEventType.Updated, failing));
        errors.Observe(new(Kwarm.Runtime.ResourceEventType.Updated, backingOff));

        Assert.Equal(NotFound, PullAttemptObserver.Observe(Job(), backingOff, Epoch, Timeout, Epoch.AddSeconds(5), c => errors.Of(backingOff, c)).Error);
        Assert.Equal("Back-off pulling image \"r/web:2\"", PullAttemptObserver.Observe(Job(), stranger, Epoch, Timeout, Epoch.AddSeconds(5), c => errors.Of(stranger, c)).Error);
        Assert.Null(errors.Of(backingOff, PullJobTemplate.InstallContainer));

        errors.Observe(new(Kwarm.Runtime.ResourceEventType.Deleted, backingOff));
        Assert.Equal(0, errors.Count);
    }

    [Fact]
    public void Container_creating_is_still_running_until_the_timeout_and_a_deadline_exceeded_job_timed_out()
    {
        var creating = Pod(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } }, null);
        var deadline = Job(new V1JobCondition { Type = "Failed", Status = "True", Reason = "DeadlineExceeded", Message = "Job was active longer than specified deadline" });

        Assert.Equal(AttemptState.Running, PullAttemptObserver.Observe(Job(), creating, Epoch, Timeout, Epoch.AddMinutes(9)).State);
        Assert.Equal(AttemptState.Running, PullAttemptObserver.Observe(Job(), null, Epoch, Timeout, Epoch.AddMinutes(10)).State);
        Assert.Equal(AttemptState.TimedOut, PullAttemptObserver.Observe(Job(), creating, Epoch, Timeout, Epoch.AddMinutes(10) + PullAttemptObserver.DeadlineGrace).State);
        Assert.Equal(AttemptState.TimedOut, PullAttemptObserver.Observe(deadline, null, Epoch, Timeout, Epoch.AddMinutes(1)).State);
    }

    [Fact]
    public void A_completed_job_without_its_pod_counts_as_pulled_and_a_broken_tools_image_as_failed()
    {
        var complete = Job(new V1JobCondition { Type = "Complete", Status = "True" });
        var toolsMissing = new V1Pod
        {
            Status = new V1PodStatus
            {
                InitContainerStatuses =
                [
                    new V1ContainerStatus { Name = PullJobTemplate.InstallContainer, State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ErrImagePull", Message = "tools: not found" } } },
                ],
            },
        };

        Assert.Equal(AttemptState.Pulled, PullAttemptObserver.Observe(complete, null, Epoch, Timeout, Epoch).State);
        var failed = PullAttemptObserver.Observe(Job(), toolsMissing, Epoch, Timeout, Epoch);
        Assert.Equal(AttemptState.Failed, failed.State);
        Assert.Contains("tools: not found", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_failed_by_its_pods_exit_waits_for_the_lagging_pod_status_before_judging()
    {
        var failedJob = Job(new V1JobCondition { Type = "Failed", Status = "True", Reason = "BackoffLimitExceeded", Message = "Job has reached the specified backoff limit" });
        var lagging = Pod(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } }, null);
        lagging.Status.Phase = "Pending";
        var caughtUp = Pod(new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 1, StartedAt = Epoch.AddSeconds(3) } }, "sha256:aa");
        caughtUp.Status.Phase = "Failed";
        var failedWithout = Pod(new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 128, Reason = "StartError" } }, null);
        failedWithout.Status.Phase = "Failed";

        Assert.Equal(AttemptState.Running, PullAttemptObserver.Observe(failedJob, lagging, Epoch, Timeout, Epoch.AddSeconds(5)).State);
        Assert.Equal(AttemptState.Pulled, PullAttemptObserver.Observe(failedJob, caughtUp, Epoch, Timeout, Epoch.AddSeconds(5)).State);
        Assert.Equal(new AttemptOutcome(AttemptState.Failed, "Job has reached the specified backoff limit"), PullAttemptObserver.Observe(failedJob, failedWithout, Epoch, Timeout, Epoch.AddSeconds(5)));
    }

    private static V1Job Job(params V1JobCondition[] conditions) => new()
    {
        Metadata = new V1ObjectMeta { Name = "pull-x", CreationTimestamp = Epoch },
        Status = new V1JobStatus { Conditions = conditions.Length == 0 ? null : conditions },
    };

    private static V1Pod Pod(V1ContainerState state, string? imageId) => new()
    {
        Status = new V1PodStatus
        {
            ContainerStatuses = [new V1ContainerStatus { Name = PullJobTemplate.PullContainer, State = state, ImageID = imageId ?? "" }],
        },
    };
}
