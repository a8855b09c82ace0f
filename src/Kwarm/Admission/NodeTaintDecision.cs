using System.Text.Json;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Admission;

/// <summary>
/// The Node webhook's decision (issue #17, DESIGN §10 "Warm new nodes"): with <c>--taint-new-nodes</c>, a Node being
/// created gets the warming taint <c>kwarm.io/warming=true:NoSchedule</c>, which the warm-up controller lifts once the
/// node holds its images. A pure function of the request, the Node's taints and the flag, like <see cref="HoldDecision"/>.
/// </summary>
/// <remarks>
/// The patch only adds: the taints array when the Node has none (<c>add /spec/taints</c>), else one entry at its end
/// (<c>add /spec/taints/-</c>), so the provisioner's own taints stay as they are. A Node that already carries the key
/// with effect NoSchedule gets nothing: the API server refuses two taints of one key and effect. On a real API server
/// the array is always there: its TaintNodesByCondition admission plugin, which runs before the webhooks, appends
/// <c>node.kubernetes.io/not-ready:NoSchedule</c> to every new Node. Decision: a dry-run
/// CREATE is answered the same as the real one (the answer writes nothing, <c>sideEffects: None</c>).
/// </remarks>
public sealed record NodeTaintDecision(NodeTaintReason Reason, IReadOnlyList<JsonPatchOperation> Patch)
{
    private const string SpecPath = "/spec";
    private const string TaintsPath = SpecPath + "/taints";

    private static readonly JsonElement WarmingTaint = HoldMechanics.Json(
        $$"""{"key":"{{KwarmApi.WarmingTaintKey}}","value":"{{KwarmApi.WarmingTaintValue}}","effect":"{{KwarmApi.WarmingTaintEffect}}"}""");

    private static readonly JsonElement WarmingTaints = HoldMechanics.Json($"[{WarmingTaint.GetRawText()}]");

    private static readonly JsonElement SpecWithWarmingTaint = HoldMechanics.Json($$"""{"taints":{{WarmingTaints.GetRawText()}}}""");

    public bool Taints => Patch.Count > 0;

    /// <param name="request">The envelope; its <c>object</c> is not read here.</param>
    /// <param name="node">The request's object, null when the request has none.</param>
    /// <param name="taintNewNodes">Kwarm's <c>--taint-new-nodes</c>.</param>
    public static NodeTaintDecision Decide(AdmissionRequest request, NodeSnapshot? node, bool taintNewNodes)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!taintNewNodes)
        {
            return Allow(NodeTaintReason.TaintingOff);
        }

        if (!string.IsNullOrEmpty(request.SubResource))
        {
            return Allow(NodeTaintReason.Subresource);
        }

        if (!IsNode(request) || node is null)
        {
            return Allow(NodeTaintReason.NotANode);
        }

        if (!string.Equals(request.Operation, AdmissionRequest.Create, StringComparison.Ordinal))
        {
            return Allow(NodeTaintReason.NotCreate);
        }

        if (node.HasWarmingTaint)
        {
            return Allow(NodeTaintReason.AlreadyTainted);
        }

        var add = !node.HasSpec ? JsonPatchOperation.Add(SpecPath, SpecWithWarmingTaint)
            : !node.HasTaints ? JsonPatchOperation.Add(TaintsPath, WarmingTaints)
            : JsonPatchOperation.Add(TaintsPath + "/-", WarmingTaint);
        return new NodeTaintDecision(NodeTaintReason.Tainted, [add]);
    }

    /// <summary>A core/v1 Node: the core group is the empty string.</summary>
    public static bool IsNode(AdmissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return string.IsNullOrEmpty(request.Kind?.Group) && string.Equals(request.Kind?.Kind, "Node", StringComparison.Ordinal);
    }

    private static NodeTaintDecision Allow(NodeTaintReason reason) => new(reason, []);
}
