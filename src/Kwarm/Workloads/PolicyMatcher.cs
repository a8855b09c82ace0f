using Kwarm.Resources;

namespace Kwarm.Workloads;

/// <summary>
/// Which PrePullPolicy governs a Deployment (DESIGN §2): the selector's labels and namespaces must match;
/// of several matching policies the oldest wins, then the lowest name. Pure over a snapshot.
/// </summary>
public static class PolicyMatcher
{
    public static PrePullPolicy? Select(IEnumerable<PrePullPolicy> policies, string? @namespace, IDictionary<string, string>? labels) =>
        Matching(policies, @namespace, labels) is [var winner, ..] ? winner : null;

    /// <summary>Every matching policy, winner first; the others are the ones that get a "not applied" condition.</summary>
    public static IReadOnlyList<PrePullPolicy> Matching(IEnumerable<PrePullPolicy> policies, string? @namespace, IDictionary<string, string>? labels)
    {
        ArgumentNullException.ThrowIfNull(policies);
        return policies
            .Where(policy => Selects(policy, @namespace, labels))
            .Order(PolicyPrecedence.Instance)
            .ToList();
    }

    /// <summary>
    /// A policy without <c>selector</c> selects nothing: like a nil Kubernetes selector, and so that a policy
    /// whose selector was forgotten cannot hold every Deployment of the cluster. <c>selector: {}</c> selects all.
    /// A policy being deleted starts no new holds.
    /// </summary>
    public static bool Selects(PrePullPolicy policy, string? @namespace, IDictionary<string, string>? labels)
    {
        ArgumentNullException.ThrowIfNull(policy);
        // A Deployment always has a namespace; a request without one can match only a policy for every namespace.
        return policy.Metadata?.DeletionTimestamp is null
            && policy.Spec?.Selector is { } selector
            && (@namespace is not null ? selector.Matches(@namespace, labels) : selector.Namespaces is not { Count: > 0 } && selector.Matches("", labels));
    }
}
