using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

/// <summary>Named nodes, or nodes chosen by labels; with neither, every eligible node.</summary>
public sealed record NodeTargets
{
    [JsonPropertyName("selector")]
    public V1LabelSelector? Selector { get; set; }

    [JsonPropertyName("names")]
    public IList<string>? Names { get; set; }

    /// <summary>
    /// Required node affinity copied from a pod template when a label selector cannot express it (several
    /// <c>nodeSelectorTerms</c>, which are ORed; <c>Gt</c>/<c>Lt</c>; <c>matchFields</c>). Same semantics as in a pod:
    /// a node must match at least one term; a term matches when all its requirements do.
    /// </summary>
    [JsonPropertyName("nodeAffinity")]
    public V1NodeSelector? NodeAffinity { get; set; }

    /// <summary>
    /// Whether a node is targeted: it must be one of <see cref="Names"/> when names are given, and match
    /// <see cref="Selector"/> when a selector is given (both when both are); with neither, every node is.
    /// Readiness, cordons, taints and OS are the pull engine's own filters on top of this.
    /// </summary>
    public bool Includes(string nodeName, IDictionary<string, string>? nodeLabels) =>
        (Names is not { Count: > 0 } || Names.Contains(nodeName, StringComparer.Ordinal))
        && (Selector is null || LabelSelectors.Matches(Selector, nodeLabels))
        && (NodeAffinity is null || NodeAffinityTerms.Matches(NodeAffinity, nodeName, nodeLabels));
}
