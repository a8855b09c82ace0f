using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// The Job controller: runs pods up to parallelism until completions succeed; fails the Job past backoffLimit or
/// activeDeadlineSeconds (deleting its active pods); deletes finished Jobs after ttlSecondsAfterFinished.
/// </summary>
public sealed class JobController : Controller
{
    public JobController(SimulationContext context)
        : base(context)
    {
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        if (obj.Type.StorageKey == "jobs.batch" && change.Type != WatchEventType.Deleted)
        {
            Enqueue(obj.Key);
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
        if (Resolve(key, Context.Jobs) is not { } stored)
        {
            return Task.CompletedTask;
        }

        Sync(stored);
        return Task.CompletedTask;
    }

    private void Sync(StoredObject stored)
    {
        var job = stored.ToNode();
        var now = Context.Time.GetUtcNow();
        var finishedAt = FinishedAt(job);
        if (finishedAt is { } finished)
        {
            if (job.Long("spec", "ttlSecondsAfterFinished") is { } ttl)
            {
                var due = finished + TimeSpan.FromSeconds(ttl);
                if (now >= due)
                {
                    try
                    {
                        Store.Delete(Context.Jobs, stored.Namespace, stored.Name, "Background", stored.Uid);
                    }
                    catch (ApiException e) when (e.Code is 404 or 409)
                    {
                        // Already gone.
                    }
                }
                else
                {
                    EnqueueAfter(stored.Key, due - now);
                }
            }

            return;
        }

        var pods = Store.DependentsOf(stored.Uid).Where(p => p.Type.StorageKey == "pods").ToList();
        var active = pods.Where(p => !p.Deleting && !PodStatus.IsTerminal(p)).ToList();
        var succeeded = pods.Count(p => p.Phase == "Succeeded");
        var failed = pods.Count(p => p.Phase == "Failed");
        var completions = job.Long("spec", "completions") ?? 1;
        var parallelism = job.Long("spec", "parallelism") ?? 1;
        var backoffLimit = job.Long("spec", "backoffLimit") ?? 6;
        var startTime = JsonPaths.ParseTimestamp(job.Str("status", "startTime")) ?? now;
        var suspended = job.Bool("spec", "suspend") == true;

        string? failReason = null;
        string? failMessage = null;
        if (failed > backoffLimit)
        {
            failReason = "BackoffLimitExceeded";
            failMessage = "Job has reached the specified backoff limit";
        }
        else if (job.Long("spec", "activeDeadlineSeconds") is { } deadline && !suspended)
        {
            var due = startTime + TimeSpan.FromSeconds(deadline);
            if (now >= due)
            {
                failReason = "DeadlineExceeded";
                failMessage = "Job was active longer than specified deadline";
            }
            else
            {
                EnqueueAfter(stored.Key, due - now);
            }
        }

        var complete = failReason is null && succeeded >= completions;
        if (failReason is not null)
        {
            foreach (var pod in active)
            {
                TryDeletePod(pod);
            }

            Context.RecordEvent(job, "Warning", failReason, failMessage!, "job-controller");
            active.Clear();
        }
        var created = 0L;
        if (failReason is null && !complete && !suspended)
        {
            var wanted = Math.Min(parallelism, completions - succeeded) - active.Count;
            for (var i = 0; i < wanted; i++)
            {
                // One event per pod, naming the pod the API server generated, as the real job controller records.
                var pod = CreatePod(job);
                Context.RecordEvent(job, "Normal", "SuccessfulCreate", $"Created pod: {pod.Name}", "job-controller");
            }

            created = Math.Max(0, wanted);
        }

        var activeCount = failReason is null && !complete ? active.Count + created : 0;

        var readyCount = active.Count(p => p.Ready);
        var stamp = Context.Now;
        var newlyComplete = false;
        Store.Mutate(Context.Jobs, stored.Namespace, stored.Name, current =>
        {
            var before = current["status"]?.ToJsonString();
            var status = current.Obj("status");
            status["startTime"] ??= JsonPaths.Timestamp(startTime);
            PodStatus.SetCount(status, "active", activeCount);
            PodStatus.SetCount(status, "succeeded", succeeded);
            PodStatus.SetCount(status, "failed", failed);
            status["ready"] = readyCount;
            if (failReason is not null)
            {
                PodStatus.SetCondition(status, "Failed", "True", failReason, failMessage!, stamp);
                status.Remove("active");
            }
            else if (complete)
            {
                newlyComplete = !status.Objects("conditions").Any(c => c.Str("type") == "Complete" && c.Str("status") == "True");
                PodStatus.SetCondition(status, "Complete", "True", "", "", stamp);
                var condition = status.Objects("conditions").First(c => c.Str("type") == "Complete");
                condition.Remove("reason");
                condition.Remove("message");
                status["completionTime"] ??= stamp;
                status.Remove("active");
            }

            foreach (var condition in status.Objects("conditions"))
            {
                condition["lastProbeTime"] ??= condition.Str("lastTransitionTime");
            }

            if (status["conditions"] is JsonArray { Count: 0 })
            {
                status.Remove("conditions");
            }

            return before != status.ToJsonString();
        });
        if (newlyComplete)
        {
            Context.RecordEvent(job, "Normal", "Completed", "Job completed", "job-controller");
        }

        if (failReason is not null || complete)
        {
            Enqueue(stored.Key);
        }
    }

    private static DateTimeOffset? FinishedAt(JsonObject job)
    {
        var condition = job.Objects("status", "conditions").FirstOrDefault(c => c.Str("type") is "Complete" or "Failed" && c.Str("status") == "True");
        return condition is null ? null : JsonPaths.ParseTimestamp(condition.Str("lastTransitionTime")) ?? DateTimeOffset.MinValue;
    }

    private StoredObject CreatePod(JsonObject job)
    {
        var template = job.At("spec", "template") as JsonObject ?? [];
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["generateName"] = job.Str("metadata", "name") + "-",
                ["namespace"] = job.Str("metadata", "namespace"),
                ["labels"] = template.At("metadata", "labels")?.DeepClone(),
                ["ownerReferences"] = new JsonArray(SimulationContext.ControllerReference(job)),
            },
            ["spec"] = template["spec"]?.DeepClone(),
        };
        BuiltInDefaults.Apply(Context.Pods, pod);
        Admission.PodAdmission.Apply(Store, Context.Catalog, pod);
        return Store.Create(Context.Pods, pod);
    }

    private void TryDeletePod(StoredObject pod)
    {
        try
        {
            Store.Delete(Context.Pods, pod.Namespace, pod.Name, expectedUid: pod.Uid);
        }
        catch (ApiException e) when (e.Code is 404 or 409)
        {
            // Already gone.
        }
    }
}
