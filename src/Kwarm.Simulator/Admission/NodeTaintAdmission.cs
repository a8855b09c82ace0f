using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Admission;

/// <summary>
/// kube-apiserver's TaintNodesByCondition admission plugin: every Node created gets the
/// <c>node.kubernetes.io/not-ready:NoSchedule</c> taint (whatever status it was created with), so nothing is
/// scheduled onto it until whoever watches node readiness (the node lifecycle controller; here the simulated
/// kubelet) sees it Ready and removes the taint. Measured on a real v1.24 server.
/// </summary>
public static class NodeTaintAdmission
{
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";

    public static void Apply(JsonObject node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var spec = node.Obj("spec");
        var taints = spec["taints"] as JsonArray ?? [];
        if (taints.OfType<JsonObject>().Any(t => t.Str("key") == NotReadyTaint && t.Str("effect") == "NoSchedule"))
        {
            return;
        }

        taints.Add(new JsonObject { ["key"] = NotReadyTaint, ["effect"] = "NoSchedule" });
        spec["taints"] = taints;
    }
}
