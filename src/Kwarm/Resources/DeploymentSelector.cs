using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Kwarm.Resources;

/// <summary>Label-selector semantics over Deployment labels, optionally limited to some namespaces.</summary>
public sealed record DeploymentSelector
{
    [JsonPropertyName("matchLabels")]
    public IDictionary<string, string>? MatchLabels { get; set; }

    [JsonPropertyName("matchExpressions")]
    public IList<V1LabelSelectorRequirement>? MatchExpressions { get; set; }

    /// <summary>Namespaces the policy applies to; null or empty means all.</summary>
    [JsonPropertyName("namespaces")]
    public IList<string>? Namespaces { get; set; }

    /// <summary>True when <paramref name="namespaceName"/> is one of <see cref="Namespaces"/>, or when that list is empty.</summary>
    public bool IncludesNamespace(string namespaceName) =>
        Namespaces is not { Count: > 0 } || Namespaces.Contains(namespaceName, StringComparer.Ordinal);

    /// <summary>A Deployment in <paramref name="namespaceName"/> with <paramref name="labels"/> is selected; an empty selector selects all.</summary>
    public bool Matches(string namespaceName, IDictionary<string, string>? labels) =>
        IncludesNamespace(namespaceName) && LabelSelectors.Matches(MatchLabels, MatchExpressions, labels);
}
