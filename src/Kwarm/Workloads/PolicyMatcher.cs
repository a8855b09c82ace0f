using Kwarm.Resources;

namespace Kwarm.Workloads;

/// <summary>
/// Which PrePullPolicy governs a workload (DESIGN §2): the policy's <c>spec.workloads</c> must name its kind, and the
/// selector's labels and namespaces must match; of several policies that apply to that kind the oldest wins, then the lowest
/// name. The overloads without a kind are for a Deployment. Pure over a snapshot.
/// </summary>
public static class PolicyMatcher
{
    public static PrePullPolicy? Select(IEnumerable<PrePullPolicy> policies, WorkloadKind kind, string? @namespace, IDictionary<string, string>? labels) =>
        Matching(policies, kind, @namespace, labels) is [var winner, ..] ? winner : null;

    /// <summary>Every policy that applies to the workload, winner first; the others are the ones that get a "not applied" condition.</summary>
    public static IReadOnlyList<PrePullPolicy> Matching(IEnumerable<PrePullPolicy> policies, WorkloadKind kind, string? @namespace, IDictionary<string, string>? labels)
    {
        ArgumentNullException.ThrowIfNull(policies);
        return policies
            .Where(policy => Selects(policy, kind, @namespace, labels))
            .Order(PolicyPrecedence.Instance)
            .ToList();
    }

    /// <summary>The policy holds workloads of <paramref name="kind"/> and its selector matches this one.</summary>
    public static bool Selects(PrePullPolicy policy, WorkloadKind kind, string? @namespace, IDictionary<string, string>? labels)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Spec?.EffectiveWorkloads.Contains(kind) == true && Selects(policy, @namespace, labels);
    }

    public static PrePullPolicy? Select(IEnumerable<PrePullPolicy> policies, string? @namespace, IDictionary<string, string>? labels) =>
        Select(policies, WorkloadKind.Deployment, @namespace, labels);

    /// <summary>Every matching policy, winner first; the others are the ones that get a "not applied" condition.</summary>
    public static IReadOnlyList<PrePullPolicy> Matching(IEnumerable<PrePullPolicy> policies, string? @namespace, IDictionary<string, string>? labels) =>
        Matching(policies, WorkloadKind.Deployment, @namespace, labels);

    /// <summary>
    /// A policy without <c>selector</c> selects nothing: like a nil Kubernetes selector, and so that a policy
    /// whose selector was forgotten cannot hold every Deployment of the cluster. <c>selector: {}</c> selects all.
    /// A policy being deleted starts no new holds. The selector only: <see cref="Selects(PrePullPolicy, WorkloadKind, string?, IDictionary{string, string}?)"/>
    /// also checks the kind.
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
