using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Warmup;

/// <summary>The startup taint <c>kwarm.io/warming=true:NoSchedule</c> (DESIGN §10): who carries it, how pulls tolerate it, how it comes off.</summary>
public static class WarmingTaint
{
    /// <summary>What a warm-up pull pod carries, so that it may run on a node no other pod may use yet.</summary>
    public static V1Toleration Toleration { get; } = new()
    {
        Key = KwarmApi.WarmingTaintKey,
        OperatorProperty = "Exists",
        Effect = KwarmApi.WarmingTaintEffect,
    };

    /// <summary>Whether the node carries the taint (any value: its provisioner may have written another).</summary>
    public static bool IsOn(V1Node node) => IndexOn(node) >= 0;

    /// <summary>The taint's position in <c>spec.taints</c>, or -1.</summary>
    public static int IndexOn(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var taints = node.Spec?.Taints;
        if (taints is null)
        {
            return -1;
        }

        for (var i = 0; i < taints.Count; i++)
        {
            if (taints[i].Key == KwarmApi.WarmingTaintKey && taints[i].Effect == KwarmApi.WarmingTaintEffect)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The taints the node's pods will meet once it is warm and settled: without the warming taint and without the
    /// startup taints that come off by themselves — the node lifecycle's <c>node.kubernetes.io/*</c> (a joining node is
    /// <c>not-ready</c> for its first seconds), the cloud provider's <c>node.cloudprovider.kubernetes.io/uninitialized</c>
    /// and a network agent's <c>…agent-not-ready</c> (Cilium). Judged against them, a workload would seem unable to run
    /// on every node that joins, and the warm-up would find nothing to do.
    /// </summary>
    public static IReadOnlyList<V1Taint> OthersOn(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return [.. (node.Spec?.Taints ?? []).Where(taint => !(taint.Key == KwarmApi.WarmingTaintKey && taint.Effect == KwarmApi.WarmingTaintEffect) && !IsStartupTaint(taint.Key))];
    }

    /// <summary>Whether a taint key is one of the startup taints <see cref="OthersOn"/> leaves out.</summary>
    public static bool IsStartupTaint(string? key) =>
        key is not null
        && (key.StartsWith("node.kubernetes.io/", StringComparison.Ordinal)
            || key == "node.cloudprovider.kubernetes.io/uninitialized"
            || key.EndsWith("agent-not-ready", StringComparison.Ordinal));

    /// <summary>
    /// The lift: one JSON Patch that tests that the entry at the taint's index is still the warming taint and removes
    /// it. A provisioner's other taints are never touched, and if the list changed meanwhile (another taint removed
    /// before it, the warming one gone) the test fails and the API server refuses the whole patch (422): the caller
    /// decides again from the newer Node. Null when the node does not carry the taint.
    /// </summary>
    public static IReadOnlyList<JsonPatchOperation>? LiftPatch(V1Node node)
    {
        var index = IndexOn(node);
        if (index < 0)
        {
            return null;
        }

        var path = "/spec/taints/" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return
        [
            new JsonPatchOperation("test", path + "/key", KwarmApi.WarmingTaintKey),
            new JsonPatchOperation("test", path + "/effect", KwarmApi.WarmingTaintEffect),
            new JsonPatchOperation("remove", path),
        ];
    }
}
