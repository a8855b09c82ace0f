using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Nodes;

/// <summary>The node heartbeat Lease a kubelet keeps in <c>kube-node-lease</c>.</summary>
internal static class NodeLease
{
    public const string Namespace = "kube-node-lease";

    /// <summary>The Lease as a kubelet creates it: named after the node, held by it, owned by the Node object.</summary>
    public static JsonObject Create(string node, string? nodeUid, string renewTime, int durationSeconds)
    {
        var metadata = new JsonObject { ["name"] = node, ["namespace"] = Namespace };
        if (!string.IsNullOrEmpty(nodeUid))
        {
            metadata["ownerReferences"] = new JsonArray(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Node", ["name"] = node, ["uid"] = nodeUid });
        }

        return new JsonObject
        {
            ["apiVersion"] = "coordination.k8s.io/v1",
            ["kind"] = "Lease",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["holderIdentity"] = node, ["leaseDurationSeconds"] = durationSeconds, ["renewTime"] = renewTime },
        };
    }
}
