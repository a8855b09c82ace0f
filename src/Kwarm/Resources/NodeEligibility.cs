using k8s.Models;

namespace Kwarm.Resources;

public static class NodeEligibility
{
    public const string OsLabel = "kubernetes.io/os";

    /// <summary>The taint a cordoned node counts as carrying (the node lifecycle controller puts it on; the scheduler honours it).</summary>
    public static readonly V1Taint UnschedulableTaint = new() { Key = "node.kubernetes.io/unschedulable", Effect = TolerationMatcher.NoSchedule };

    /// <summary>
    /// A node is targeted when the spec selects it (names and/or selector), it is Ready, not cordoned, every
    /// NoSchedule/NoExecute taint is tolerated by the spec's tolerations, and its <c>kubernetes.io/os</c> label is
    /// <c>linux</c> or absent (the pull pod's noop helper is a Linux binary). A cordoned node counts as carrying
    /// <c>node.kubernetes.io/unschedulable:NoSchedule</c>, as the scheduler sees it: a spec that tolerates that taint (a
    /// DaemonSet's, whose pods run on cordoned nodes) targets it; any other gets <see cref="NodeVerdict.Cordoned"/>.
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

        if (node.Spec?.Unschedulable == true && !(spec.Tolerations ?? []).Any(toleration => TolerationMatcher.Tolerates(toleration, UnschedulableTaint)))
        {
            return NodeVerdict.Cordoned;
        }

        return TolerationMatcher.ToleratesAll(node.Spec?.Taints, spec.Tolerations) ? NodeVerdict.Target : NodeVerdict.TaintNotTolerated;
    }

    public static bool IsReady(V1Node node) =>
        node.Status?.Conditions?.Any(condition => condition.Type == "Ready" && condition.Status == "True") == true;

    /// <summary>
    /// Whether the node reports <paramref name="reference"/> among its images: its normalised tag reference, or its
    /// repo digest when it pins one, as containerd lists them (<c>nginx:1.27.1</c> is there when the node lists
    /// <c>docker.io/library/nginx:1.27.1</c>; DESIGN §10). The list is capped at 50 entries by the kubelet, so absence
    /// proves nothing; presence does. A reference that does not parse is looked for as written.
    /// </summary>
    public static bool HasImage(V1Node node, string reference) =>
        HasImage(node, ImageIdentity.TryParse(reference, out var identity, out _) ? identity : null, reference);

    /// <inheritdoc cref="HasImage(V1Node, string)"/>
    public static bool HasImage(V1Node node, ImageIdentity? identity, string reference)
    {
        ArgumentNullException.ThrowIfNull(node);
        var images = node.Status?.Images;
        if (images is null)
        {
            return false;
        }

        foreach (var image in images)
        {
            if (image.Names is { } names && (identity?.IsListedIn(names) ?? names.Contains(reference, StringComparer.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}
