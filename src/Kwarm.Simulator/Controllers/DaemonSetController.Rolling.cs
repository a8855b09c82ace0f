using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

public sealed partial class DaemonSetController
{
    /// <summary>
    /// maxSurge and maxUnavailable as numbers of nodes: percentages of desiredNumberScheduled rounded up, and, as the
    /// real controller does when both come out 0 for a non-empty set, one unavailable node.
    /// </summary>
    private static (long Surge, long Unavailable) RollingLimits(JsonObject daemonSet, long desired)
    {
        var rolling = daemonSet.At("spec", "updateStrategy", "rollingUpdate");
        var surge = DeploymentController.Resolve(rolling?["maxSurge"], desired, roundUp: true, fallback: "0");
        var unavailable = DeploymentController.Resolve(rolling?["maxUnavailable"], desired, roundUp: true, fallback: "1");
        if (desired > 0 && surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, unavailable);
    }

    /// <summary>
    /// One pass of v1.24's rollingUpdate. Without surge: old pods are deleted while fewer than maxUnavailable nodes are
    /// unavailable (an old pod that is not available is replaced at once); the manage loop then creates the new pods.
    /// With surge: a new pod is created beside an available old one on up to maxSurge nodes, and the old one is deleted
    /// once the new one is available.
    /// </summary>
    private void RollingUpdate(JsonObject daemonSet, RevisionHistory.Revision revision, Dictionary<string, (bool ShouldRun, bool ShouldContinueRunning)> placement, Dictionary<string, List<DaemonPod>> byNode)
    {
        var desired = placement.Count(p => p.Value.ShouldRun);
        var (maxSurge, maxUnavailable) = RollingLimits(daemonSet, desired);
        var toDelete = new List<DaemonPod>();
        if (maxSurge == 0)
        {
            var unavailable = 0L;
            var candidates = new List<DaemonPod>();
            foreach (var (_, pods) in byNode.OrderBy(n => n.Key, StringComparer.Ordinal))
            {
                if (!TryFindPods(pods, out var newPod, out var oldPod))
                {
                    unavailable++;
                    continue;
                }

                if ((oldPod is null) == (newPod is null))
                {
                    unavailable++;
                }
                else if (newPod is not null)
                {
                    unavailable += newPod.Available ? 0 : 1;
                }
                else if (!oldPod!.Available)
                {
                    toDelete.Add(oldPod);
                }
                else if (unavailable < maxUnavailable)
                {
                    candidates.Add(oldPod);
                }
            }

            var room = (int)Math.Clamp(maxUnavailable - unavailable, 0, candidates.Count);
            toDelete.AddRange(candidates.Take(room));
            foreach (var pod in toDelete)
            {
                DeletePod(daemonSet, pod.Stored);
            }

            return;
        }

        var surging = 0L;
        var newNodes = new List<string>();
        var surgeCandidates = new List<string>();
        foreach (var (nodeName, pods) in byNode.OrderBy(n => n.Key, StringComparer.Ordinal))
        {
            if (!TryFindPods(pods, out var newPod, out var oldPod))
            {
                surging++;
                continue;
            }

            if (oldPod is null)
            {
                continue;
            }

            if (newPod is null)
            {
                if (!oldPod.Available)
                {
                    newNodes.Add(nodeName);
                }
                else if (surging < maxSurge)
                {
                    surgeCandidates.Add(nodeName);
                }

                continue;
            }

            if (!newPod.Available)
            {
                surging++;
                continue;
            }

            toDelete.Add(oldPod);
        }

        newNodes.AddRange(surgeCandidates.Take((int)Math.Clamp(maxSurge - surging, 0, surgeCandidates.Count)));
        foreach (var pod in toDelete)
        {
            DeletePod(daemonSet, pod.Stored);
        }

        foreach (var nodeName in newNodes)
        {
            CreatePod(daemonSet, revision, nodeName);
        }
    }

    /// <summary>As findUpdatedPodsOnNode: at most one new and one old pod not being deleted, else false.</summary>
    private static bool TryFindPods(List<DaemonPod> pods, out DaemonPod? newPod, out DaemonPod? oldPod)
    {
        newPod = null;
        oldPod = null;
        foreach (var pod in pods.Where(p => !p.Stored.Deleting))
        {
            if (pod.Updated)
            {
                if (newPod is not null)
                {
                    return false;
                }

                newPod = pod;
            }
            else
            {
                if (oldPod is not null)
                {
                    return false;
                }

                oldPod = pod;
            }
        }

        return true;
    }

    /// <summary>
    /// The status as v1.24 writes it: desired counts the nodes that should run a pod, current those of them that have
    /// one, misscheduled the other nodes that have one; ready, available and updated look at each node's oldest pod
    /// (terminating pods included, as the real controller lists them).
    /// The four scheduling counts are written even when 0; updated, available and unavailable are omitted at 0.
    /// </summary>
    private void UpdateStatus(StoredObject stored, Dictionary<string, (bool ShouldRun, bool ShouldContinueRunning)> placement, Dictionary<string, List<DaemonPod>> byNode)
    {
        long desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
        foreach (var (nodeName, (shouldRun, _)) in placement)
        {
            var pods = byNode.GetValueOrDefault(nodeName) ?? [];
            if (!shouldRun)
            {
                misscheduled += pods.Count > 0 ? 1 : 0;
                continue;
            }

            desired++;
            if (pods.Count == 0)
            {
                continue;
            }

            current++;
            var oldest = pods.OrderBy(p => p.Created).ThenBy(p => p.Stored.Phase == "Running" ? 0 : 1).First();
            ready += oldest.Stored.Ready ? 1 : 0;
            available += oldest.Stored.Ready ? 1 : 0;
            updated += oldest.Updated ? 1 : 0;
        }

        Store.Mutate(Context.DaemonSets, stored.Namespace, stored.Name, daemonSet =>
        {
            var before = daemonSet["status"]?.ToJsonString();
            var status = daemonSet.Obj("status");
            status["currentNumberScheduled"] = current;
            status["numberMisscheduled"] = misscheduled;
            status["desiredNumberScheduled"] = desired;
            status["numberReady"] = ready;
            status["observedGeneration"] = daemonSet.Long("metadata", "generation") ?? 1;
            PodStatus.SetCount(status, "updatedNumberScheduled", updated);
            PodStatus.SetCount(status, "numberAvailable", available);
            PodStatus.SetCount(status, "numberUnavailable", desired - available);
            return before != status.ToJsonString();
        });
    }
}
