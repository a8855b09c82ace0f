using k8s.Models;

namespace Kwarm.Pulling;

/// <summary>
/// Reads the outcome of a pull attempt from its Job and pod (DESIGN §5): the image is on the node as soon as the
/// pull container has an <c>imageID</c> (running or terminated, whatever the exit code: the noop helper's exit
/// status says nothing about the image); the attempt failed on <c>ErrImagePull</c>, <c>ImagePullBackOff</c>,
/// <c>InvalidImageName</c> (or <c>ErrImageNeverPull</c>), or when its timeout ran out: the Job's own
/// <c>DeadlineExceeded</c>, or, as a safety net when the Job controller lags, the attempt's age.
/// </summary>
public static class PullAttemptObserver
{
    public static readonly IReadOnlySet<string> PullFailureReasons =
        new HashSet<string>(StringComparer.Ordinal) { "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull" };

    /// <summary>Slack given to the Job controller's own deadline before Kwarm calls the attempt timed out itself.</summary>
    public static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(10);

    /// <param name="earlierError">
    /// The kubelet's last informative error for a container of this pod (see <see cref="KubeletPullErrors"/>): an
    /// <c>ImagePullBackOff</c> is reported with it rather than with its own "Back-off pulling image" message.
    /// </param>
    public static AttemptOutcome Observe(V1Job? job, V1Pod? pod, DateTime attemptStart, TimeSpan timeout, DateTime now, Func<string, string?>? earlierError = null)
    {
        var pull = pod?.Status?.ContainerStatuses?.FirstOrDefault(status => status.Name == PullJobTemplate.PullContainer);
        if (!string.IsNullOrEmpty(pull?.ImageID))
        {
            return new AttemptOutcome(AttemptState.Pulled, PulledAt: pull.State?.Running?.StartedAt ?? pull.State?.Terminated?.StartedAt ?? pull.LastState?.Terminated?.StartedAt);
        }

        if (pull?.State?.Waiting is { } waiting && PullFailureReasons.Contains(waiting.Reason ?? ""))
        {
            return new AttemptOutcome(AttemptState.Failed, KubeletMessage(waiting, earlierError?.Invoke(PullJobTemplate.PullContainer)));
        }

        var install = pod?.Status?.InitContainerStatuses?.FirstOrDefault(status => status.Name == PullJobTemplate.InstallContainer);
        if (install?.State?.Waiting is { } installWaiting && PullFailureReasons.Contains(installWaiting.Reason ?? ""))
        {
            return new AttemptOutcome(AttemptState.Failed, "tools image: " + KubeletMessage(installWaiting, earlierError?.Invoke(PullJobTemplate.InstallContainer)));
        }

        if (install?.State?.Terminated is { ExitCode: not 0 } installFailed)
        {
            return new AttemptOutcome(
                AttemptState.Failed,
                $"installing the noop helper failed with exit code {installFailed.ExitCode}: {installFailed.Message ?? installFailed.Reason ?? "no message"}");
        }

        var conditions = job?.Status?.Conditions ?? [];
        if (conditions.Any(condition => condition.Type == "Complete" && condition.Status == "True"))
        {
            // The noop helper ran, so the image was there, even if the pod is already gone.
            return new AttemptOutcome(AttemptState.Pulled, PulledAt: job?.Status?.CompletionTime);
        }

        if (conditions.FirstOrDefault(condition => condition.Type == "Failed" && condition.Status == "True") is { } failed)
        {
            if (failed.Reason == "DeadlineExceeded")
            {
                return new AttemptOutcome(AttemptState.TimedOut, TimeoutMessage(timeout));
            }

            // Jobs and pods come through different watches: a Job failed by its pod's exit (the image's own exit
            // code does not matter) can arrive before the pod status that shows the imageID. Wait for the pod.
            if (pod is not null && pod.Status?.Phase is not ("Failed" or "Succeeded") && now - attemptStart < timeout + DeadlineGrace)
            {
                return AttemptOutcome.Running;
            }

            return new AttemptOutcome(AttemptState.Failed, KubeletMessage(failed.Reason, failed.Message));
        }

        return now - attemptStart >= timeout + DeadlineGrace
            ? new AttemptOutcome(AttemptState.TimedOut, TimeoutMessage(timeout))
            : AttemptOutcome.Running;
    }

    public static string TimeoutMessage(TimeSpan timeout) =>
        $"the image was not pulled within the attempt timeout of {Resources.GoDuration.Format(timeout)}";

    private static string KubeletMessage(V1ContainerStateWaiting waiting, string? earlier) =>
        waiting.Reason == "ImagePullBackOff" && !string.IsNullOrWhiteSpace(earlier) ? earlier : KubeletMessage(waiting.Reason, waiting.Message);

    private static string KubeletMessage(string? reason, string? message) =>
        string.IsNullOrWhiteSpace(message) ? reason ?? "unknown failure" : message;
}
