using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>Why a node is or is not a target of a PrePullImage (DESIGN §5, "target nodes").</summary>
public enum NodeVerdict
{
    Target,
    NotSelected,
    NotReady,
    Cordoned,
    TaintNotTolerated,
    NotLinux,
}

public static class NodeEligibility
{
    public const string OsLabel = "kubernetes.io/os";

    /// <summary>
    /// A node is targeted when the spec selects it (names and/or selector), it is Ready, not cordoned, every
    /// NoSchedule/NoExecute taint is tolerated by the spec's tolerations, and its <c>kubernetes.io/os</c> label is
    /// <c>linux</c> or absent (the pull pod's noop helper is a Linux binary).
    /// </summary>
    public static NodeVerdict Judge(PrePullImageSpec spec, V1Node node)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(node);
        var labels = node.Metadata?.Labels;
        if (!spec.TargetsNode(node.Metadata?.Name ?? "", labels))
        {
            return NodeVerdict.NotSelected;
        }

        if (labels is not null && labels.TryGetValue(OsLabel, out var os) && !string.Equals(os, "linux", StringComparison.Ordinal))
        {
            return NodeVerdict.NotLinux;
        }

        if (!IsReady(node))
        {
            return NodeVerdict.NotReady;
        }

        if (node.Spec?.Unschedulable == true)
        {
            return NodeVerdict.Cordoned;
        }

        return TolerationMatcher.ToleratesAll(node.Spec?.Taints, spec.Tolerations) ? NodeVerdict.Target : NodeVerdict.TaintNotTolerated;
    }

    public static bool IsReady(V1Node node) =>
        node.Status?.Conditions?.Any(condition => condition.Type == "Ready" && condition.Status == "True") == true;

    /// <summary>
    /// Whether the node reports <paramref name="reference"/> among its images. The list is capped at 50 entries by
    /// the kubelet, so absence proves nothing; presence of the exact reference does.
    /// </summary>
    public static bool HasImage(V1Node node, string reference) =>
        node.Status?.Images?.Any(image => image.Names?.Contains(reference, StringComparer.Ordinal) == true) == true;
}
