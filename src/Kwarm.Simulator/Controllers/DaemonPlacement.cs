using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// Where a DaemonSet's pods belong, as kube-controller-manager v1.24 decides it (NodeShouldRunDaemonPod): the template's
/// nodeName, nodeSelector and required node affinity must match; every NoSchedule/NoExecute taint must be tolerated by
/// the template's tolerations plus the ones the controller adds to each daemon pod. A node whose taints are not all
/// tolerated gets no new pod but keeps a running one unless a NoExecute taint is untolerated (measured: a pod stays on a
/// node tainted NoSchedule after it started, and counts as misscheduled).
/// </summary>
public static class DaemonPlacement
{
    /// <summary>The tolerations the DaemonSet controller adds to every daemon pod, in its order.</summary>
    private static readonly (string Key, string Effect)[] DaemonTolerations =
    [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];

    /// <summary>Whether a new daemon pod belongs on <paramref name="node"/>, and whether a running one may stay.</summary>
    public static (bool ShouldRun, bool ShouldContinueRunning) Evaluate(JsonObject daemonSet, JsonObject node)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        ArgumentNullException.ThrowIfNull(node);
        var podSpec = daemonSet.At("spec", "template", "spec") as JsonObject ?? [];
        var nodeName = node.Str("metadata", "name") ?? "";
        if (podSpec.Str("nodeName") is { Length: > 0 } pinned && pinned != nodeName)
        {
            return (false, false);
        }

        var labels = node.StringMap("metadata", "labels");
        if (podSpec.StringMap("nodeSelector").Any(pair => labels.GetValueOrDefault(pair.Key) != pair.Value))
        {
            return (false, false);
        }

        if (podSpec.At("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms") is JsonArray terms
            && !terms.OfType<JsonObject>().Any(term => Scheduler.TermMatches(term, labels, nodeName)))
        {
            return (false, false);
        }

        var tolerations = Tolerations(podSpec).ToList();
        var untolerated = node.Objects("spec", "taints")
            .Where(t => t.Str("effect") is "NoSchedule" or "NoExecute")
            .Where(t => !Scheduler.Tolerates(tolerations, t.Str("key") ?? "", t.Str("value"), t.Str("effect")!))
            .ToList();
        if (untolerated.Count == 0)
        {
            return (true, true);
        }

        return (false, !untolerated.Any(t => t.Str("effect") == "NoExecute"));
    }

    /// <summary>The daemon pod's tolerations: the template's, then the controller's own where not already present.</summary>
    public static IEnumerable<JsonObject> Tolerations(JsonObject podSpec)
    {
        ArgumentNullException.ThrowIfNull(podSpec);
        var result = podSpec.Objects("tolerations").Select(t => t.DeepClone().AsObject()).ToList();
        var added = DaemonTolerations.ToList();
        if (podSpec.Bool("hostNetwork") == true)
        {
            added.Add(("node.kubernetes.io/network-unavailable", "NoSchedule"));
        }

        foreach (var (key, effect) in added)
        {
            // As AddOrUpdateTolerationInPodSpec: an identical toleration (key, operator Exists, effect) is not repeated.
            var toleration = new JsonObject { ["key"] = key, ["operator"] = "Exists", ["effect"] = effect };
            var same = result.FindIndex(t => t.Str("key") == key && t.Str("operator") == "Exists" && t.Str("effect") == effect && t.Str("value") is null or "");
            if (same >= 0)
            {
                result[same] = toleration;
            }
            else
            {
                result.Add(toleration);
            }
        }

        return result;
    }

    /// <summary>
    /// The daemon pod's affinity: its required node affinity replaced by one term pinning the node by
    /// <c>matchFields metadata.name</c> (the controller creates unbound pods and lets the scheduler bind them).
    /// </summary>
    public static JsonObject Affinity(JsonObject podSpec, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(podSpec);
        var affinity = (podSpec["affinity"] as JsonObject ?? []).DeepClone().AsObject();
        var nodeAffinity = affinity.Obj("nodeAffinity");
        nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] = new JsonObject
        {
            ["nodeSelectorTerms"] = new JsonArray(new JsonObject
            {
                ["matchFields"] = new JsonArray(new JsonObject
                {
                    ["key"] = "metadata.name",
                    ["operator"] = "In",
                    ["values"] = new JsonArray(nodeName),
                }),
            }),
        };
        return affinity;
    }

    /// <summary>The node a daemon pod is bound to, or pinned to by its affinity before the scheduler binds it.</summary>
    public static string? NodeOf(JsonObject pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Str("spec", "nodeName") is { Length: > 0 } bound)
        {
            return bound;
        }

        var term = pod.Objects("spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms").FirstOrDefault();
        var field = term.Objects("matchFields").FirstOrDefault(f => f.Str("key") == "metadata.name" && f.Str("operator") == "In");
        return field?["values"] is JsonArray { Count: 1 } values ? values[0]?.ToString() : null;
    }
}
