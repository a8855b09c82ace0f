using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

public sealed partial class StatefulSetController
{
    /// <summary>
    /// The status as v1.24 writes it: <c>replicas</c> counts every pod (terminating ones too), current/updated count the
    /// pods not terminating at each revision, and a RollingUpdate whose pods are all updated and ready makes the update
    /// revision the current one. Under OnDelete the current revision never moves (measured: <c>currentRevision</c> stays
    /// the old one and <c>currentReplicas</c> drops to 0 once every pod was deleted and recreated). <c>availableReplicas</c>
    /// and <c>collisionCount</c> are written even when 0 (no omitempty), the other counts are not.
    /// </summary>
    private void UpdateStatus(StoredObject stored, List<StoredObject> pods, RevisionHistory.Revision current, RevisionHistory.Revision update)
    {
        var replicas = pods.Count;
        var ready = pods.Count(RunningAndReady);
        var live = pods.Where(p => !p.Deleting).ToList();
        var currentCount = live.Count(p => p.Labels.GetValueOrDefault(RevisionLabel) == current.Name);
        var updatedCount = live.Count(p => p.Labels.GetValueOrDefault(RevisionLabel) == update.Name);
        var currentName = current.Name;
        Store.Mutate(Context.StatefulSets, stored.Namespace, stored.Name, set =>
        {
            var before = set["status"]?.ToJsonString();
            if (set.Str("spec", "updateStrategy", "type") == "RollingUpdate" && updatedCount == replicas && ready == replicas)
            {
                currentCount = updatedCount;
                currentName = update.Name;
            }

            var status = set.Obj("status");
            status["observedGeneration"] = set.Long("metadata", "generation") ?? 1;
            status["replicas"] = replicas;
            PodStatus.SetCount(status, "readyReplicas", ready);
            PodStatus.SetCount(status, "currentReplicas", currentCount);
            PodStatus.SetCount(status, "updatedReplicas", updatedCount);
            status["currentRevision"] = currentName;
            status["updateRevision"] = update.Name;
            status["collisionCount"] = status.Long("collisionCount") ?? 0;
            status["availableReplicas"] = ready;
            return before != status.ToJsonString();
        });
    }
}
