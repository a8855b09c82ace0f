using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>Keeps each ReplicaSet's pod count at spec.replicas and reports replicas/ready/available.</summary>
public sealed class ReplicaSetController : Controller
{
    private const int BurstReplicas = 500;

    public ReplicaSetController(SimulationContext context)
        : base(context)
    {
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        if (obj.Type.StorageKey == "replicasets.apps")
        {
            if (change.Type != WatchEventType.Deleted)
            {
                Enqueue(obj.Key);
            }
        }
        else if (obj.Type.StorageKey == "pods" && obj.Owners.Count > 0)
        {
            foreach (var owner in obj.Owners)
            {
                Enqueue("uid:" + owner);
            }
        }
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (Resolve(key, Context.ReplicaSets) is not { } stored)
        {
            return Task.CompletedTask;
        }

        var rs = stored.ToNode();
        var desired = rs.Long("spec", "replicas") ?? 1;
        var pods = Store.DependentsOf(stored.Uid).Where(p => p.Type.StorageKey == "pods" && !p.Deleting && !PodStatus.IsTerminal(p)).ToList();
        var diff = desired - pods.Count;
        if (diff > 0)
        {
            var template = rs.At("spec", "template") as JsonObject ?? [];
            for (var i = 0; i < Math.Min(diff, BurstReplicas); i++)
            {
                var pod = new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Pod",
                    ["metadata"] = new JsonObject
                    {
                        ["generateName"] = stored.Name + "-",
                        ["namespace"] = stored.Namespace,
                        ["labels"] = template.At("metadata", "labels")?.DeepClone(),
                        ["annotations"] = template.At("metadata", "annotations")?.DeepClone(),
                        ["ownerReferences"] = new JsonArray(SimulationContext.ControllerReference(rs)),
                    },
                    ["spec"] = template["spec"]?.DeepClone(),
                };
                if (pod.At("metadata", "annotations") is null)
                {
                    pod.Metadata().Remove("annotations");
                }

                BuiltInDefaults.Apply(Context.Pods, pod);
                Admission.PodAdmission.Apply(Store, Context.Catalog, pod);
                Store.Create(Context.Pods, pod);
            }

            if (diff > BurstReplicas)
            {
                Enqueue(stored.Key);
            }
        }
        else if (diff < 0)
        {
            // Remove the least useful pods first: unscheduled, then not ready, then the newest.
            var victims = pods
                .OrderBy(p => p.NodeName is null ? 0 : 1)
                .ThenBy(p => p.Ready ? 1 : 0)
                .ThenByDescending(p => p.ResourceVersion)
                .Take((int)-diff);
            foreach (var victim in victims)
            {
                try
                {
                    Store.Delete(Context.Pods, victim.Namespace, victim.Name, expectedUid: victim.Uid);
                }
                catch (ApiException e) when (e.Code is 404 or 409)
                {
                    // Already gone.
                }
            }
        }

        UpdateStatus(stored);
        return Task.CompletedTask;
    }

    private void UpdateStatus(StoredObject stored)
    {
        var pods = Store.DependentsOf(stored.Uid).Where(p => p.Type.StorageKey == "pods" && !p.Deleting && !PodStatus.IsTerminal(p)).ToList();
        var ready = pods.Count(p => p.Ready);
        Store.Mutate(Context.ReplicaSets, stored.Namespace, stored.Name, rs =>
        {
            var before = rs["status"]?.ToJsonString();
            var status = rs.Obj("status");
            status["replicas"] = pods.Count;
            var selector = LabelSelector.FromObject(rs.At("spec", "selector"));
            PodStatus.SetCount(status, "fullyLabeledReplicas", pods.Count(p => selector.Matches(p.Labels)));
            PodStatus.SetCount(status, "readyReplicas", ready);
            PodStatus.SetCount(status, "availableReplicas", ready);
            status["observedGeneration"] = rs.Long("metadata", "generation") ?? 1;
            return before != status.ToJsonString();
        });
    }
}
