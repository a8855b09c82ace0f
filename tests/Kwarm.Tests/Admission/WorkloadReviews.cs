using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Admission;

/// <summary>
/// StatefulSet and DaemonSet AdmissionReviews. No such review was recorded (<c>tests/fixtures/admission</c> holds
/// Deployments only), so each is a recorded Deployment review with the kind, the resource and the spec turned into what
/// kube-apiserver v1.24 sends for the other kind: the same envelope, user, metadata and pod template, the Deployment-only
/// fields (<c>strategy</c>, <c>progressDeadlineSeconds</c>, <c>paused</c>; a DaemonSet's <c>replicas</c>) removed, and the
/// kind's fields with the API server's defaults (StatefulSet <c>updateStrategy</c> RollingUpdate with partition 0,
/// <c>podManagementPolicy</c> OrderedReady; DaemonSet RollingUpdate with maxUnavailable 1, maxSurge 0).
/// </summary>
internal static class WorkloadReviews
{
    public const string StatefulSetDefault = """{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""";

    public static JsonObject Review(WorkloadKind kind, string fixture = AdmissionFixtures.SetImage)
    {
        var review = AdmissionFixtures.Review(fixture);
        var request = review.Request();
        var plural = kind == WorkloadKind.StatefulSet ? "statefulsets" : "daemonsets";
        foreach (var field in new[] { "kind", "requestKind" })
        {
            request[field] = new JsonObject { ["group"] = "apps", ["version"] = "v1", ["kind"] = kind.ToString() };
        }

        foreach (var field in new[] { "resource", "requestResource" })
        {
            request[field] = new JsonObject { ["group"] = "apps", ["version"] = "v1", ["resource"] = plural };
        }

        foreach (var field in new[] { "object", "oldObject" })
        {
            if (request[field] is JsonObject workload)
            {
                Convert(kind, workload);
            }
        }

        return review;
    }

    private static void Convert(WorkloadKind kind, JsonObject workload)
    {
        workload["kind"] = kind.ToString();
        workload.Remove("status");
        var spec = workload.Spec();
        spec.Remove("strategy");
        spec.Remove("progressDeadlineSeconds");
        spec.Remove("paused");
        if (kind == WorkloadKind.StatefulSet)
        {
            spec["serviceName"] = (string?)workload["metadata"]!["name"];
            spec["podManagementPolicy"] = "OrderedReady";
            spec["updateStrategy"] = JsonNode.Parse(StatefulSetDefault);
        }
        else
        {
            spec.Remove("replicas");
            spec["updateStrategy"] = JsonNode.Parse(HoldMechanics.DefaultDaemonSetStrategy);
        }
    }

    public static JsonObject Strategy(this JsonObject workload) => workload.Spec()["updateStrategy"]!.AsObject();

    /// <summary>What Kwarm's webhook leaves on a StatefulSet or DaemonSet it holds, with <paramref name="recorded"/> as the user's value.</summary>
    public static void MarkHeld(this JsonObject workload, WorkloadKind kind, string holdId, string recorded, string policy = "default")
    {
        if (kind == WorkloadKind.StatefulSet)
        {
            workload.Spec()["updateStrategy"] = JsonNode.Parse($$$"""{"type":"RollingUpdate","rollingUpdate":{"partition":{{{HoldMechanics.HeldPartition}}}}}""");
        }
        else
        {
            workload.Spec()["updateStrategy"] = JsonNode.Parse(HoldMechanics.HeldDaemonSetStrategy);
        }

        workload.Annotations()[KwarmApi.HoldAnnotation] = holdId;
        workload.Annotations()[KwarmApi.PolicyAnnotation] = policy;
        workload.Annotations()[HoldMechanics.RecordAnnotation(kind)!] = recorded;
    }

    public static HoldDecision Decide(JsonObject review, PrePullPolicy? policy = null) =>
        HoldDecision.Decide(review.ToRequest(), policy ?? AdmissionFixtures.Policy(), AdmissionFixtures.Kwarm);

    /// <summary>The webhook's patch applied to the request's object by the independent applier: what the API server stores.</summary>
    public static JsonObject Patched(JsonObject review, HoldDecision decision) =>
        JsonPatchApplier.Apply(review.NewObject(), JsonNode.Parse(JsonPatchOperation.SerializeToString(decision.Patch))!.AsArray()).AsObject();

    /// <summary>A review whose old object is the given one and whose new object is a copy of it with <paramref name="change"/> applied.</summary>
    public static JsonObject Update(WorkloadKind kind, JsonObject previous, Action<JsonObject> change)
    {
        var review = Review(kind);
        review.Request()["oldObject"] = previous.DeepClone();
        var updated = (JsonObject)previous.DeepClone();
        change(updated);
        review.Request()["object"] = updated;
        return review;
    }
}
