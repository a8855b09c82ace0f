using System.Globalization;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// The StatefulSet controller of kube-controller-manager v1.24: pods <c>&lt;name&gt;-&lt;ordinal&gt;</c> labelled with
/// <c>controller-revision-hash</c> (the revision's name) and <c>statefulset.kubernetes.io/pod-name</c>; revisions as
/// ControllerRevisions; <c>OrderedReady</c> (ordinal i is created once 0..i-1 are Running and Ready, scale-down from the
/// highest ordinal, one at a time) and <c>Parallel</c>; <c>RollingUpdate</c> from the highest ordinal down to the
/// partition, one pod at a time, each waiting for the replacement to be Running and Ready; <c>OnDelete</c> (a deleted pod
/// comes back at the update revision, nothing else is replaced). A new pod takes the current revision when its ordinal is
/// below the partition (measured: with partition 2147483647 a scale-up adds pods at the current revision), else the
/// update revision. Status carries what <c>kubectl rollout status statefulset</c> reads.
/// </summary>
/// <remarks>Not simulated: volumeClaimTemplates (no PVCs are made), minReadySeconds (available means ready), hash collisions.</remarks>
public sealed partial class StatefulSetController : Controller
{
    private const string RevisionLabel = "controller-revision-hash";
    private const string PodNameLabel = "statefulset.kubernetes.io/pod-name";

    private readonly RevisionHistory _revisions;

    public StatefulSetController(SimulationContext context)
        : base(context)
    {
        _revisions = new RevisionHistory(context, "controller.kubernetes.io/hash");
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        if (obj.Type.StorageKey == "statefulsets.apps" && change.Type != WatchEventType.Deleted)
        {
            Enqueue(obj.Key);
        }
        else if (obj.Type.StorageKey == "pods")
        {
            foreach (var owner in obj.Owners)
            {
                Enqueue("uid:" + owner);
            }
        }
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (Resolve(key, Context.StatefulSets) is { } stored)
        {
            Sync(stored);
        }

        return Task.CompletedTask;
    }

    private void Sync(StoredObject stored)
    {
        var set = stored.ToNode();
        var revisions = _revisions.List(set);
        var update = _revisions.Ensure(set, revisions);
        if (!revisions.Any(r => r.Name == update.Name))
        {
            revisions.Add(update);
        }

        var current = revisions.FirstOrDefault(r => r.Name == set.Str("status", "currentRevision")) ?? update;
        var pods = OwnedPods(stored);
        Act(set, pods, current, update);

        var after = OwnedPods(stored);
        UpdateStatus(stored, after, current, update);
        var inUse = new HashSet<string>(after.Select(p => p.Labels.GetValueOrDefault(RevisionLabel) ?? ""), StringComparer.Ordinal) { current.Name, update.Name };
        _revisions.Prune(set, revisions, inUse);
    }

    private List<StoredObject> OwnedPods(StoredObject set) =>
        [.. Store.DependentsOf(set.Uid).Where(p => p.Type.StorageKey == "pods" && Ordinal(set.Name, p.Name) >= 0)];

    /// <summary>The ordinal in a pod name <c>&lt;set&gt;-&lt;n&gt;</c>, or -1 when the name is not one of the set's.</summary>
    private static int Ordinal(string setName, string podName) =>
        podName.Length > setName.Length + 1 && podName.StartsWith(setName + "-", StringComparison.Ordinal)
        && int.TryParse(podName.AsSpan(setName.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal) ? ordinal : -1;

    private static bool RunningAndReady(StoredObject pod) => pod.Phase == "Running" && pod.Ready;

    /// <summary>One pass of the controller's update loop; returns as soon as it has to wait for a pod.</summary>
    private void Act(JsonObject set, List<StoredObject> pods, RevisionHistory.Revision current, RevisionHistory.Revision update)
    {
        var name = set.Str("metadata", "name")!;
        var replicas = (int)(set.Long("spec", "replicas") ?? 1);
        var monotonic = set.Str("spec", "podManagementPolicy") != "Parallel";
        var slots = new StoredObject?[replicas];
        var condemned = new List<(int Ordinal, StoredObject Pod)>();
        foreach (var pod in pods)
        {
            var ordinal = Ordinal(name, pod.Name);
            if (ordinal < replicas)
            {
                slots[ordinal] = pod;
            }
            else
            {
                condemned.Add((ordinal, pod));
            }
        }

        // A pod that failed or succeeded is deleted, and made again on a later pass.
        for (var i = 0; i < replicas; i++)
        {
            if (slots[i] is { Deleting: false } finished && PodStatus.IsTerminal(finished))
            {
                DeletePod(set, finished);
                return;
            }
        }

        for (var i = 0; i < replicas; i++)
        {
            if (slots[i] is not { } pod)
            {
                CreatePod(set, i, current, update);
                if (monotonic)
                {
                    return;
                }

                continue;
            }

            if (monotonic && (pod.Deleting || !RunningAndReady(pod)))
            {
                return;
            }
        }

        // Here, under OrderedReady, every kept pod is Running and Ready: the highest ordinal goes first, one at a time,
        // and an unhealthy one blocks unless it is the lowest unhealthy (the real controller's firstUnhealthyPod).
        var firstUnhealthy = condemned.OrderBy(c => c.Ordinal).Select(c => c.Pod).FirstOrDefault(p => !RunningAndReady(p));
        foreach (var (_, pod) in condemned.OrderByDescending(c => c.Ordinal))
        {
            if (pod.Deleting)
            {
                if (monotonic)
                {
                    return;
                }

                continue;
            }

            if (monotonic && !RunningAndReady(pod) && pod != firstUnhealthy)
            {
                return;
            }

            DeletePod(set, pod);
            if (monotonic)
            {
                return;
            }
        }

        if (set.Str("spec", "updateStrategy", "type") != "RollingUpdate")
        {
            return;
        }

        var partition = (int)Math.Min(int.MaxValue, set.Long("spec", "updateStrategy", "rollingUpdate", "partition") ?? 0);
        for (var target = replicas - 1; target >= partition; target--)
        {
            if (slots[target] is not { } pod)
            {
                return;
            }

            if (pod.Labels.GetValueOrDefault(RevisionLabel) != update.Name && !pod.Deleting)
            {
                DeletePod(set, pod);
                return;
            }

            if (!RunningAndReady(pod) || pod.Deleting)
            {
                return;
            }
        }
    }

    /// <summary>
    /// As the real controller's newVersionedStatefulSetPod: the current revision for an ordinal below the partition (or,
    /// under a RollingUpdate without a rollingUpdate block, below status.currentReplicas), the update revision otherwise.
    /// </summary>
    private static bool TakesCurrentRevision(JsonObject set, int ordinal)
    {
        var strategy = set.At("spec", "updateStrategy");
        if (strategy?["rollingUpdate"] is JsonObject rolling)
        {
            return ordinal < (rolling.Long("partition") ?? 0);
        }

        return strategy.Str("type") == "RollingUpdate" && ordinal < (set.Long("status", "currentReplicas") ?? 0);
    }

    private void CreatePod(JsonObject set, int ordinal, RevisionHistory.Revision current, RevisionHistory.Revision update)
    {
        var revision = TakesCurrentRevision(set, ordinal) ? current : update;
        var setName = set.Str("metadata", "name")!;
        var podName = $"{setName}-{ordinal.ToString(CultureInfo.InvariantCulture)}";
        var template = revision.Template;
        var labels = new JsonObject();
        foreach (var (key, value) in template.StringMap("metadata", "labels"))
        {
            labels[key] = value;
        }

        labels[RevisionLabel] = revision.Name;
        labels[PodNameLabel] = podName;
        var spec = (template["spec"] as JsonObject ?? []).DeepClone().AsObject();
        spec["hostname"] = podName;
        if (set.Str("spec", "serviceName") is { Length: > 0 } service)
        {
            spec["subdomain"] = service;
        }

        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = podName,
                ["generateName"] = setName + "-",
                ["namespace"] = set.Str("metadata", "namespace"),
                ["labels"] = labels,
                ["ownerReferences"] = new JsonArray(SimulationContext.ControllerReference(set)),
            },
            ["spec"] = spec,
        };
        if (template.At("metadata", "annotations") is JsonObject annotations)
        {
            pod.Metadata()["annotations"] = annotations.DeepClone();
        }

        BuiltInDefaults.Apply(Context.Pods, pod);
        Admission.PodAdmission.Apply(Store, Context.Catalog, pod);
        try
        {
            Store.Create(Context.Pods, pod);
        }
        catch (ApiException e) when (e.Code == 409)
        {
            // The previous pod of this ordinal is still there (its kubelet has not confirmed the deletion yet).
            return;
        }

        Context.RecordEvent(set, "Normal", "SuccessfulCreate", $"create Pod {podName} in StatefulSet {setName} successful", "statefulset-controller");
    }

    private void DeletePod(JsonObject set, StoredObject pod)
    {
        try
        {
            Store.Delete(Context.Pods, pod.Namespace, pod.Name, expectedUid: pod.Uid);
        }
        catch (ApiException e) when (e.Code is 404 or 409)
        {
            return;
        }

        Context.RecordEvent(set, "Normal", "SuccessfulDelete", $"delete Pod {pod.Name} in StatefulSet {set.Str("metadata", "name")} successful", "statefulset-controller");
    }
}
