using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// The DaemonSet controller of kube-controller-manager v1.24: one pod per eligible node (<see cref="DaemonPlacement"/>),
/// created unbound with the node pinned by required node affinity (<c>matchFields metadata.name</c>) so that the
/// scheduler and the node's kubelet run it like any pod (its image pulls are counted as any pod's); pods labelled
/// <c>controller-revision-hash</c> (the revision's hash) and <c>pod-template-generation</c>; revisions as
/// ControllerRevisions; <c>RollingUpdate</c> within maxUnavailable (delete first) or maxSurge (new pod first, the old
/// one deleted once the new one is ready), <c>OnDelete</c> (a deleted pod comes back at the new template, nothing else is
/// replaced). A node joining gets a pod; a pod whose node is gone is deleted (the pod garbage collector's job on a
/// cluster). Status carries what <c>kubectl rollout status daemonset</c> reads.
/// </summary>
/// <remarks>Not simulated: minReadySeconds (available means ready), the back-off before replacing failed daemon pods.</remarks>
public sealed partial class DaemonSetController : Controller
{
    private const string AllDaemonSets = "*all-daemonsets";
    private const string HashLabel = "controller-revision-hash";
    private const string GenerationLabel = "pod-template-generation";

    private readonly RevisionHistory _revisions;

    public DaemonSetController(SimulationContext context)
        : base(context)
    {
        _revisions = new RevisionHistory(context, HashLabel);
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        switch (obj.Type.StorageKey)
        {
            case "daemonsets.apps" when change.Type != WatchEventType.Deleted:
                Enqueue(obj.Key);
                break;
            case "pods":
                foreach (var owner in obj.Owners)
                {
                    Enqueue("uid:" + owner);
                }

                break;
            case "nodes":
                Enqueue(AllDaemonSets);
                break;
        }
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (key == AllDaemonSets)
        {
            foreach (var daemonSet in Store.List(Context.DaemonSets, null).Items)
            {
                Enqueue(daemonSet.Key);
            }

            return Task.CompletedTask;
        }

        if (Resolve(key, Context.DaemonSets) is { } stored)
        {
            Sync(stored);
        }

        return Task.CompletedTask;
    }

    /// <summary>The daemon pods of one node, with what the controller needs of each.</summary>
    private sealed record DaemonPod(StoredObject Stored, string Node, bool Updated, DateTimeOffset Created)
    {
        public bool Available => Stored.Ready && !Stored.Deleting;
    }

    private void Sync(StoredObject stored)
    {
        var daemonSet = stored.ToNode();
        var revisions = _revisions.List(daemonSet);
        var revision = _revisions.Ensure(daemonSet, revisions);
        if (!revisions.Any(r => r.Name == revision.Name))
        {
            revisions.Add(revision);
        }

        var nodes = Store.List(Context.Nodes, null).Items.Select(n => n.ToNode()).ToList();
        var placement = nodes.ToDictionary(n => n.Str("metadata", "name")!, n => DaemonPlacement.Evaluate(daemonSet, n), StringComparer.Ordinal);
        Manage(daemonSet, revision, placement, PodsByNode(stored, daemonSet, revision.Hash));
        if (daemonSet.Str("spec", "updateStrategy", "type") == "RollingUpdate")
        {
            RollingUpdate(daemonSet, revision, placement, PodsByNode(stored, daemonSet, revision.Hash));
        }

        var after = PodsByNode(stored, daemonSet, revision.Hash);
        UpdateStatus(stored, placement, after);
        var inUse = new HashSet<string>(StringComparer.Ordinal) { revision.Name };
        foreach (var hash in after.Values.SelectMany(p => p).Select(p => p.Stored.Labels.GetValueOrDefault(HashLabel)).Distinct())
        {
            inUse.Add($"{stored.Name}-{hash}");
        }

        _revisions.Prune(daemonSet, revisions, inUse);
    }

    private Dictionary<string, List<DaemonPod>> PodsByNode(StoredObject stored, JsonObject daemonSet, string hash)
    {
        var generation = daemonSet.Str("metadata", "annotations", WorkloadRules.TemplateGenerationAnnotation);
        var byNode = new Dictionary<string, List<DaemonPod>>(StringComparer.Ordinal);
        foreach (var pod in Store.DependentsOf(stored.Uid).Where(p => p.Type.StorageKey == "pods"))
        {
            var node = pod.ToNode();
            if (DaemonPlacement.NodeOf(node) is not { } nodeName)
            {
                continue;
            }

            // As IsPodUpdated: the hash label or the template generation label says the pod runs the current template.
            var updated = pod.Labels.GetValueOrDefault(HashLabel) == hash || (generation is not null && pod.Labels.GetValueOrDefault(GenerationLabel) == generation);
            var created = JsonPaths.ParseTimestamp(node.Str("metadata", "creationTimestamp")) ?? DateTimeOffset.MinValue;
            if (!byNode.TryGetValue(nodeName, out var list))
            {
                byNode[nodeName] = list = [];
            }

            list.Add(new DaemonPod(pod, nodeName, updated, created));
        }

        return byNode;
    }

    /// <summary>The manage loop: a pod on every node that should run one, none where none may stay, extras removed.</summary>
    private void Manage(JsonObject daemonSet, RevisionHistory.Revision revision, Dictionary<string, (bool ShouldRun, bool ShouldContinueRunning)> placement, Dictionary<string, List<DaemonPod>> byNode)
    {
        var surging = daemonSet.Str("spec", "updateStrategy", "type") == "RollingUpdate" && RollingLimits(daemonSet, placement.Count(p => p.Value.ShouldRun)).Surge > 0;
        foreach (var (nodeName, (shouldRun, shouldContinue)) in placement)
        {
            var pods = byNode.GetValueOrDefault(nodeName) ?? [];
            var running = new List<DaemonPod>();
            foreach (var pod in pods.Where(p => !p.Stored.Deleting))
            {
                if (pod.Stored.Phase == "Failed")
                {
                    DeletePod(daemonSet, pod.Stored);
                }
                else
                {
                    running.Add(pod);
                }
            }

            if (shouldRun)
            {
                if (running.Count == 0)
                {
                    CreatePod(daemonSet, revision, nodeName);
                }
                else if (running.Count > 1)
                {
                    // Keep the oldest pod (and, while surging, the oldest updated one beside it); delete the rest.
                    var keep = new HashSet<DaemonPod> { running.OrderBy(p => p.Created).First() };
                    if (surging && running.Where(p => p.Updated).OrderBy(p => p.Created).FirstOrDefault() is { } newest)
                    {
                        keep.Clear();
                        keep.Add(newest);
                        if (running.Where(p => !p.Updated).OrderBy(p => p.Created).FirstOrDefault() is { } oldest)
                        {
                            keep.Add(oldest);
                        }
                    }

                    foreach (var extra in running.Where(p => !keep.Contains(p)))
                    {
                        DeletePod(daemonSet, extra.Stored);
                    }
                }
            }
            else if (!shouldContinue)
            {
                foreach (var pod in running)
                {
                    DeletePod(daemonSet, pod.Stored);
                }
            }
        }

        // A pod on a node that no longer exists: on a cluster the pod garbage collector deletes it.
        foreach (var (nodeName, pods) in byNode.Where(n => !placement.ContainsKey(n.Key)))
        {
            foreach (var pod in pods.Where(p => !p.Stored.Deleting && p.Stored.NodeName == nodeName))
            {
                DeletePod(daemonSet, pod.Stored);
            }
        }
    }

    private void CreatePod(JsonObject daemonSet, RevisionHistory.Revision revision, string nodeName)
    {
        var name = daemonSet.Str("metadata", "name")!;
        var template = daemonSet.At("spec", "template") as JsonObject ?? [];
        var labels = new JsonObject();
        foreach (var (key, value) in template.StringMap("metadata", "labels"))
        {
            labels[key] = value;
        }

        labels[HashLabel] = revision.Hash;
        labels[GenerationLabel] = daemonSet.Str("metadata", "annotations", WorkloadRules.TemplateGenerationAnnotation) ?? "1";
        var spec = (template["spec"] as JsonObject ?? []).DeepClone().AsObject();
        spec["affinity"] = DaemonPlacement.Affinity(spec, nodeName);
        spec["tolerations"] = new JsonArray([.. DaemonPlacement.Tolerations(spec)]);
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["generateName"] = name + "-",
                ["namespace"] = daemonSet.Str("metadata", "namespace"),
                ["labels"] = labels,
                ["ownerReferences"] = new JsonArray(SimulationContext.ControllerReference(daemonSet)),
            },
            ["spec"] = spec,
        };
        if (template.At("metadata", "annotations") is JsonObject annotations)
        {
            pod.Metadata()["annotations"] = annotations.DeepClone();
        }

        BuiltInDefaults.Apply(Context.Pods, pod);
        Admission.PodAdmission.Apply(Store, Context.Catalog, pod);
        var created = Store.Create(Context.Pods, pod);
        Context.RecordEvent(daemonSet, "Normal", "SuccessfulCreate", $"Created pod: {created.Name}", "daemonset-controller");
    }

    private void DeletePod(JsonObject daemonSet, StoredObject pod)
    {
        try
        {
            Store.Delete(Context.Pods, pod.Namespace, pod.Name, expectedUid: pod.Uid);
        }
        catch (ApiException e) when (e.Code is 404 or 409)
        {
            return;
        }

        Context.RecordEvent(daemonSet, "Normal", "SuccessfulDelete", $"Deleted pod: {pod.Name}", "daemonset-controller");
    }
}
