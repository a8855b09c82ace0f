using System.Collections.Concurrent;
using k8s.Models;
using Kwarm.Kubernetes;

namespace Kwarm.Pulling;

/// <summary>
/// The kubelet's own pull error for each container of a pull pod, kept from the pod's watch events. A failing pull
/// says why only while it is <c>ErrImagePull</c> (or <c>InvalidImageName</c>/<c>ErrImageNeverPull</c>); moments later
/// the kubelet replaces that with <c>ImagePullBackOff</c>, whose message only says it is backing off. A reconcile that
/// reads the pod after that change would otherwise report "Back-off pulling image" instead of "not found" or
/// "401 Unauthorized", which is what the person reading the PullFailed event needs.
/// </summary>
public sealed class KubeletPullErrors
{
    private readonly ConcurrentDictionary<(string PodUid, string Container), string> _errors = new();

    public int Count => _errors.Count;

    /// <summary>Records what the event shows; forgets a pod once it is gone.</summary>
    public void Observe(ResourceEvent<V1Pod> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var uid = change.Resource.Metadata?.Uid;
        if (string.IsNullOrEmpty(uid))
        {
            return;
        }

        if (change.Type == ResourceEventType.Deleted)
        {
            foreach (var key in _errors.Keys.Where(key => key.PodUid == uid))
            {
                _errors.TryRemove(key, out _);
            }

            return;
        }

        var status = change.Resource.Status;
        foreach (var container in (status?.InitContainerStatuses ?? []).Concat(status?.ContainerStatuses ?? []))
        {
            if (container.State?.Waiting is { } waiting
                && waiting.Reason != "ImagePullBackOff"
                && PullAttemptObserver.PullFailureReasons.Contains(waiting.Reason ?? "")
                && !string.IsNullOrWhiteSpace(waiting.Message))
            {
                _errors[(uid, container.Name)] = waiting.Message;
            }
        }
    }

    /// <summary>The last informative pull error the kubelet reported for this container of this pod, if any.</summary>
    public string? Of(V1Pod? pod, string container) =>
        pod?.Metadata?.Uid is { Length: > 0 } uid && _errors.TryGetValue((uid, container), out var error) ? error : null;
}
