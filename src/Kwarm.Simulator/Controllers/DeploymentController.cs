using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// The Deployment controller: one ReplicaSet per pod template (named by pod-template-hash), rolling updates within
/// maxSurge/maxUnavailable, Recreate, and the paused semantics measured on a real server (no new ReplicaSet while
/// paused, replica changes still scale the existing ones, resuming starts the rollout at once, no progress deadline
/// while paused); status and the Progressing/Available conditions are what <c>kubectl rollout status</c> reads.
/// </summary>
public sealed class DeploymentController : Controller
{
    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    /// <summary>The Deployment annotations kube-controller-manager never copies onto its ReplicaSets.</summary>
    private static readonly HashSet<string> AnnotationsNotCopied = new(StringComparer.Ordinal)
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        RevisionAnnotation,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    };

    public DeploymentController(SimulationContext context)
        : base(context)
    {
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        if (obj.Type.StorageKey == "deployments.apps" && change.Type != WatchEventType.Deleted)
        {
            Enqueue(obj.Key);
        }
        else if (obj.Type.StorageKey == "replicasets.apps")
        {
            foreach (var owner in obj.Owners)
            {
                Enqueue("uid:" + owner);
            }
        }
        else if (obj.Type.StorageKey == "pods" && change.Type == WatchEventType.Deleted)
        {
            // A Recreate rollout waits for the old pods themselves to be gone, terminating ones included.
            foreach (var replicaSet in obj.Owners.Select(Store.GetByUid).OfType<StoredObject>())
            {
                foreach (var owner in replicaSet.Owners)
                {
                    Enqueue("uid:" + owner);
                }
            }
        }
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (Resolve(key, Context.Deployments) is not { } stored)
        {
            return Task.CompletedTask;
        }

        Sync(stored);
        return Task.CompletedTask;
    }

    private void Sync(StoredObject stored)
    {
        var deployment = stored.ToNode();
        var replicas = deployment.Long("spec", "replicas") ?? 1;
        var paused = deployment.Bool("spec", "paused") == true;
        var template = deployment.At("spec", "template") as JsonObject ?? [];
        var hash = SimulationContext.ShortHash(template);
        var all = Store.DependentsOf(stored.Uid).Where(d => d.Type.StorageKey == "replicasets.apps" && !d.Deleting).Select(d => d.ToNode()).ToList();
        var newRs = all.FirstOrDefault(rs => rs.StringMap("metadata", "labels").GetValueOrDefault("pod-template-hash") == hash);
        var old = all.Where(rs => rs != newRs).OrderBy(Revision).ToList();
        var (maxSurge, maxUnavailable) = RollingLimits(deployment, replicas);
        var createdNew = false;
        if (newRs is not null)
        {
            CopyAnnotations(deployment, newRs);
        }

        if (paused)
        {
            ScaleProportionally(all, newRs, replicas);
        }
        else
        {
            if (newRs is null)
            {
                newRs = CreateReplicaSet(deployment, template, hash, all, old, replicas, maxSurge);
                createdNew = newRs is not null;
            }

            if (newRs is not null)
            {
                if (deployment.Str("spec", "strategy", "type") == "Recreate")
                {
                    Recreate(newRs, old, replicas);
                }
                else
                {
                    Roll(newRs, old, replicas, maxSurge, maxUnavailable);
                }

                EnsureRevision(deployment, newRs, all);
            }

            CleanUp(deployment, old);
        }

        // Re-read: the writes above moved the replica sets on.
        var current = Store.DependentsOf(stored.Uid).Where(d => d.Type.StorageKey == "replicasets.apps" && !d.Deleting).Select(d => d.ToNode()).ToList();
        var currentNew = current.FirstOrDefault(rs => rs.StringMap("metadata", "labels").GetValueOrDefault("pod-template-hash") == hash);
        UpdateStatus(stored, current, currentNew, replicas, maxUnavailable, paused, createdNew);
    }

    private static long Revision(JsonObject rs) =>
        long.TryParse(rs.Str("metadata", "annotations", RevisionAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : 0;

    private static (long Surge, long Unavailable) RollingLimits(JsonObject deployment, long replicas)
    {
        if (deployment.Str("spec", "strategy", "type") == "Recreate")
        {
            return (0, replicas);
        }

        var surge = Resolve(deployment.At("spec", "strategy", "rollingUpdate", "maxSurge"), replicas, roundUp: true, fallback: "25%");
        var unavailable = Resolve(deployment.At("spec", "strategy", "rollingUpdate", "maxUnavailable"), replicas, roundUp: false, fallback: "25%");
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, unavailable);
    }

    internal static long Resolve(JsonNode? value, long total, bool roundUp, string fallback)
    {
        var text = value is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? null : value?.ToString() ?? fallback;
        if (text is null)
        {
            return value!.GetValue<long>();
        }

        if (text.EndsWith('%') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
        {
            var exact = total * percent / 100.0;
            return (long)(roundUp ? Math.Ceiling(exact) : Math.Floor(exact));
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : 0;
    }

    private JsonObject? CreateReplicaSet(JsonObject deployment, JsonObject template, string hash, List<JsonObject> all, List<JsonObject> old, long replicas, long maxSurge)
    {
        var name = $"{deployment.Str("metadata", "name")}-{hash}";
        var rsTemplate = (JsonObject)template.DeepClone();
        rsTemplate.Obj("metadata").Obj("labels")["pod-template-hash"] = hash;
        var selector = (deployment.At("spec", "selector") as JsonObject ?? []).DeepClone().AsObject();
        selector.Obj("matchLabels")["pod-template-hash"] = hash;
        var labels = template.StringMap("metadata", "labels");
        var labelObject = new JsonObject();
        foreach (var (k, v) in labels)
        {
            labelObject[k] = v;
        }

        labelObject["pod-template-hash"] = hash;
        var revision = all.Select(Revision).DefaultIfEmpty(0).Max() + 1;
        var currentTotal = old.Sum(rs => rs.Long("spec", "replicas") ?? 0);
        var initial = old.Count == 0 || currentTotal == 0 ? replicas : Math.Max(0, Math.Min(replicas, replicas + maxSurge - currentTotal));
        if (deployment.Str("spec", "strategy", "type") == "Recreate" && currentTotal > 0)
        {
            initial = 0;
        }

        var annotations = new JsonObject();
        foreach (var (key, value) in CopiedAnnotations(deployment))
        {
            annotations[key] = value;
        }

        annotations["deployment.kubernetes.io/desired-replicas"] = SimulationContext.Int(replicas);
        annotations["deployment.kubernetes.io/max-replicas"] = SimulationContext.Int(replicas + maxSurge);
        annotations[RevisionAnnotation] = SimulationContext.Int(revision);
        var rs = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = deployment.Str("metadata", "namespace"),
                ["labels"] = labelObject,
                ["annotations"] = annotations,
                ["ownerReferences"] = new JsonArray(SimulationContext.ControllerReference(deployment)),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = initial,
                ["selector"] = selector,
                ["template"] = rsTemplate,
            },
        };
        BuiltInDefaults.Apply(Context.ReplicaSets, rs);
        StoredObject created;
        try
        {
            created = Store.Create(Context.ReplicaSets, rs);
        }
        catch (ApiException e) when (e.Code == 409)
        {
            return null;
        }

        Context.RecordEvent(deployment, "Normal", "ScalingReplicaSet", $"Scaled up replica set {name} to {initial}", "deployment-controller");
        return created.ToNode();
    }

    private static IEnumerable<KeyValuePair<string, string>> CopiedAnnotations(JsonObject deployment) =>
        deployment.StringMap("metadata", "annotations").Where(annotation => !AnnotationsNotCopied.Contains(annotation.Key));

    /// <summary>
    /// As kube-controller-manager does on every sync, paused or not, the ReplicaSet of the current template gets the
    /// Deployment's annotations, added or overwritten; an annotation removed from the Deployment stays on the ReplicaSet.
    /// </summary>
    private void CopyAnnotations(JsonObject deployment, JsonObject newRs)
    {
        var missing = CopiedAnnotations(deployment).Where(annotation => newRs.Str("metadata", "annotations", annotation.Key) != annotation.Value).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        Store.Mutate(Context.ReplicaSets, newRs.Str("metadata", "namespace")!, newRs.Str("metadata", "name")!, rs =>
        {
            var annotations = rs.Metadata().Obj("annotations");
            foreach (var (key, value) in missing)
            {
                annotations[key] = value;
            }

            return true;
        });
    }

    private void EnsureRevision(JsonObject deployment, JsonObject newRs, List<JsonObject> all)
    {
        var revision = Revision(newRs);
        var max = all.Select(Revision).DefaultIfEmpty(0).Max();
        if (revision < max)
        {
            // The template went back to an older ReplicaSet (a rollback): it becomes the newest revision.
            revision = max + 1;
            Store.Mutate(Context.ReplicaSets, newRs.Str("metadata", "namespace")!, newRs.Str("metadata", "name")!, rs =>
            {
                rs.Metadata().Obj("annotations")[RevisionAnnotation] = SimulationContext.Int(revision);
                return true;
            });
        }

        var text = SimulationContext.Int(revision);
        if (deployment.Str("metadata", "annotations", RevisionAnnotation) != text)
        {
            Store.Mutate(Context.Deployments, deployment.Str("metadata", "namespace")!, deployment.Str("metadata", "name")!, d =>
            {
                if (d.Str("metadata", "annotations", RevisionAnnotation) == text)
                {
                    return false;
                }

                d.Metadata().Obj("annotations")[RevisionAnnotation] = text;
                return true;
            });
        }
    }

    private void Roll(JsonObject newRs, List<JsonObject> old, long replicas, long maxSurge, long maxUnavailable)
    {
        var newReplicas = newRs.Long("spec", "replicas") ?? 0;
        var allSpec = newReplicas + old.Sum(rs => rs.Long("spec", "replicas") ?? 0);
        if (newReplicas > replicas)
        {
            Scale(newRs, replicas);
            return;
        }

        if (newReplicas < replicas)
        {
            var maxTotal = replicas + maxSurge;
            if (allSpec < maxTotal)
            {
                var scaleUp = Math.Min(replicas, newReplicas + (maxTotal - allSpec));
                if (scaleUp != newReplicas)
                {
                    Scale(newRs, scaleUp);
                    allSpec += scaleUp - newReplicas;
                    newReplicas = scaleUp;
                }
            }
        }

        // Scale old replica sets down without going below the availability floor.
        var minAvailable = replicas - maxUnavailable;
        var newUnavailable = Math.Max(0, newReplicas - (newRs.Long("status", "availableReplicas") ?? 0));
        var budget = allSpec - minAvailable - newUnavailable;
        if (budget <= 0)
        {
            return;
        }

        foreach (var rs in old)
        {
            if (budget <= 0)
            {
                break;
            }

            var size = rs.Long("spec", "replicas") ?? 0;
            var unhealthy = Math.Max(0, size - (rs.Long("status", "availableReplicas") ?? 0));
            var cut = Math.Min(unhealthy, budget);
            if (cut > 0)
            {
                Scale(rs, size - cut);
                rs.Obj("spec")["replicas"] = size - cut;
                budget -= cut;
            }
        }

        var available = (newRs.Long("status", "availableReplicas") ?? 0) + old.Sum(rs => Math.Min(rs.Long("spec", "replicas") ?? 0, rs.Long("status", "availableReplicas") ?? 0));
        var healthyBudget = Math.Min(budget, available - minAvailable);
        foreach (var rs in old)
        {
            if (healthyBudget <= 0)
            {
                break;
            }

            var size = rs.Long("spec", "replicas") ?? 0;
            var cut = Math.Min(size, healthyBudget);
            if (cut > 0)
            {
                Scale(rs, size - cut);
                healthyBudget -= cut;
            }
        }
    }

    private void Recreate(JsonObject newRs, List<JsonObject> old, long replicas)
    {
        var oldActive = false;
        foreach (var rs in old)
        {
            if ((rs.Long("spec", "replicas") ?? 0) > 0)
            {
                Scale(rs, 0);
                oldActive = true;
            }

            if ((rs.Long("status", "replicas") ?? 0) > 0)
            {
                oldActive = true;
            }

            // As kube-controller-manager's oldPodsRunning: a terminating pod (deleted, its kubelet not done yet) is no
            // longer in the ReplicaSet's status.replicas but still runs, and Recreate waits for it too.
            if (rs.Str("metadata", "uid") is { } uid
                && Store.DependentsOf(uid).Any(pod => pod.Type.StorageKey == "pods" && pod.Phase is not ("Succeeded" or "Failed")))
            {
                oldActive = true;
            }
        }

        if (!oldActive && (newRs.Long("spec", "replicas") ?? 0) != replicas)
        {
            Scale(newRs, replicas);
        }
    }

    private void ScaleProportionally(List<JsonObject> all, JsonObject? newRs, long replicas)
    {
        var active = all.Where(rs => (rs.Long("spec", "replicas") ?? 0) > 0).ToList();
        if (active.Count == 0)
        {
            var target = newRs ?? all.OrderByDescending(Revision).FirstOrDefault();
            if (target is not null && replicas > 0)
            {
                Scale(target, replicas);
            }

            return;
        }

        var total = active.Sum(rs => rs.Long("spec", "replicas") ?? 0);
        if (total == replicas)
        {
            return;
        }

        if (active.Count == 1)
        {
            Scale(active[0], replicas);
            return;
        }

        // Several active replica sets (a paused rollout): share the new size in proportion, leftovers to the newest.
        var assigned = 0L;
        var sizes = new Dictionary<JsonObject, long>();
        foreach (var rs in active)
        {
            var share = (long)Math.Floor((double)(rs.Long("spec", "replicas") ?? 0) * replicas / total);
            sizes[rs] = share;
            assigned += share;
        }

        var newest = active.OrderByDescending(Revision).First();
        sizes[newest] += replicas - assigned;
        foreach (var (rs, size) in sizes)
        {
            if (size != (rs.Long("spec", "replicas") ?? 0))
            {
                Scale(rs, size);
            }
        }
    }

    private void Scale(JsonObject rs, long size)
    {
        var ns = rs.Str("metadata", "namespace")!;
        var name = rs.Str("metadata", "name")!;
        var from = rs.Long("spec", "replicas") ?? 0;
        Store.Mutate(Context.ReplicaSets, ns, name, current =>
        {
            if ((current.Long("spec", "replicas") ?? 0) == size)
            {
                return false;
            }

            current.Obj("spec")["replicas"] = size;
            return true;
        });
        var owner = Store.GetByUid(SimulationContext.ControllerUid(rs, "Deployment") ?? "");
        if (owner is not null && from != size)
        {
            Context.RecordEvent(owner.ToNode(), "Normal", "ScalingReplicaSet", $"Scaled {(size > from ? "up" : "down")} replica set {name} to {size}", "deployment-controller");
        }
    }

    private void CleanUp(JsonObject deployment, List<JsonObject> old)
    {
        var limit = deployment.Long("spec", "revisionHistoryLimit") ?? 10;
        var idle = old.Where(rs => (rs.Long("spec", "replicas") ?? 0) == 0 && (rs.Long("status", "replicas") ?? 0) == 0).OrderBy(Revision).ToList();
        foreach (var rs in idle.Take(Math.Max(0, idle.Count - (int)limit)))
        {
            try
            {
                Store.Delete(Context.ReplicaSets, rs.Str("metadata", "namespace")!, rs.Str("metadata", "name")!, "Background", rs.Str("metadata", "uid"));
            }
            catch (ApiException e) when (e.Code is 404 or 409)
            {
                // Already gone.
            }
        }
    }

    private void UpdateStatus(StoredObject stored, List<JsonObject> all, JsonObject? newRs, long replicas, long maxUnavailable, bool paused, bool createdNew)
    {
        var specTotal = all.Sum(rs => rs.Long("spec", "replicas") ?? 0);
        var statusTotal = all.Sum(rs => rs.Long("status", "replicas") ?? 0);
        var updated = newRs?.Long("status", "replicas") ?? 0;
        var ready = all.Sum(rs => rs.Long("status", "readyReplicas") ?? 0);
        var available = all.Sum(rs => rs.Long("status", "availableReplicas") ?? 0);
        var now = Context.Now;
        var nextCheck = (TimeSpan?)null;
        Store.Mutate(Context.Deployments, stored.Namespace, stored.Name, deployment =>
        {
            var before = deployment["status"]?.ToJsonString();
            var status = deployment.Obj("status");
            status["observedGeneration"] = deployment.Long("metadata", "generation") ?? 1;
            PodStatus.SetCount(status, "replicas", statusTotal);
            PodStatus.SetCount(status, "updatedReplicas", updated);
            PodStatus.SetCount(status, "readyReplicas", ready);
            PodStatus.SetCount(status, "availableReplicas", available);
            PodStatus.SetCount(status, "unavailableReplicas", Math.Max(0, specTotal - available));
            var hasMinimum = available >= replicas - maxUnavailable;
            PodStatus.SetCondition(status, "Available", hasMinimum ? "True" : "False",
                hasMinimum ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                hasMinimum ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now, withUpdateTime: true);

            var progressing = status.Objects("conditions").FirstOrDefault(c => c.Str("type") == "Progressing");
            var rsName = newRs?.Str("metadata", "name") ?? "";
            var complete = newRs is not null && updated == replicas && available >= replicas && statusTotal == updated;
            var progressed = before is null || ProgressMade(before, status);
            if (paused)
            {
                PodStatus.SetCondition(status, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now, withUpdateTime: true);
            }
            else if (progressing?.Str("reason") == "DeploymentPaused")
            {
                PodStatus.SetCondition(status, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now, withUpdateTime: true);
                nextCheck = TimeSpan.Zero;
            }
            else if (createdNew)
            {
                PodStatus.SetCondition(status, "Progressing", "True", "NewReplicaSetCreated", $"Created new replica set \"{rsName}\"", now, withUpdateTime: true);
            }
            else if (complete)
            {
                PodStatus.SetCondition(status, "Progressing", "True", "NewReplicaSetAvailable", $"ReplicaSet \"{rsName}\" has successfully progressed.", now, withUpdateTime: true);
            }
            else if (newRs is not null && progressing?.Str("reason") != "ProgressDeadlineExceeded")
            {
                var deadline = TimeSpan.FromSeconds(deployment.Long("spec", "progressDeadlineSeconds") ?? 600);
                var lastUpdate = JsonPaths.ParseTimestamp(progressing?.Str("lastUpdateTime"));
                if (!progressed && lastUpdate is { } last && Context.Time.GetUtcNow() - last >= deadline)
                {
                    PodStatus.SetCondition(status, "Progressing", "False", "ProgressDeadlineExceeded", $"ReplicaSet \"{rsName}\" has timed out progressing.", now, withUpdateTime: true);
                }
                else
                {
                    PodStatus.SetCondition(status, "Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{rsName}\" is progressing.", now, withUpdateTime: true, touchUpdateTime: progressed);
                    nextCheck = deadline;
                }
            }

            return before != status.ToJsonString();
        });
        if (nextCheck is { } delay)
        {
            EnqueueAfter(stored.Key, delay);
        }
    }

    private static bool ProgressMade(string before, JsonObject status)
    {
        var old = JsonNode.Parse(before) as JsonObject;
        return old.Long("updatedReplicas") != status.Long("updatedReplicas")
            || old.Long("availableReplicas") != status.Long("availableReplicas")
            || old.Long("readyReplicas") != status.Long("readyReplicas")
            || old.Long("replicas") != status.Long("replicas");
    }
}
