using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>
/// The status a PrePullPolicy should show, from the policies and Deployments in the caches. Pure: the clock only
/// stamps a condition whose status changed and <c>lastUpdated</c> when something did.
/// </summary>
public static class PolicyStatusCalculator
{
    public const string ReadyCondition = "Ready";

    /// <summary>True when some Deployment this policy selects is governed by an older (then lower-named) policy.</summary>
    public const string OutrankedCondition = "Outranked";

    public sealed record Counts(int Watched, int ActiveHolds, IReadOnlyList<(string Deployment, string Winner)> Outranked);

    public static Counts Count(PrePullPolicy policy, IReadOnlyList<PrePullPolicy> policies, IEnumerable<V1Deployment> deployments)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(deployments);
        var name = policy.Metadata.Name;
        var watched = 0;
        var active = 0;
        var outranked = new List<(string, string)>();
        foreach (var deployment in deployments)
        {
            var metadata = deployment.Metadata;
            if (metadata.Annotations?.ValueOf(KwarmApi.HoldAnnotation) is { Length: > 0 }
                && metadata.Annotations.ValueOf(KwarmApi.PolicyAnnotation) == name)
            {
                active++;
            }

            if (!PolicyMatcher.Selects(policy, metadata.NamespaceProperty, metadata.Labels))
            {
                continue;
            }

            var winner = PolicyMatcher.Select(policies, metadata.NamespaceProperty, metadata.Labels);
            if (winner is null || winner.Metadata.Name == name)
            {
                watched++;
            }
            else
            {
                outranked.Add(($"{metadata.NamespaceProperty}/{metadata.Name}", winner.Metadata.Name));
            }
        }

        return new Counts(watched, active, outranked);
    }

    /// <summary>
    /// The desired status, or null when <paramref name="current"/> already says the same (then nothing is written).
    /// Conditions keep their <c>lastTransitionTime</c> while their status does not change.
    /// </summary>
    public static PrePullPolicyStatus? Desired(PrePullPolicy policy, Counts counts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(counts);
        var current = policy.Status;
        var generation = policy.Metadata.Generation;
        var problems = policy.Spec.Validate();
        var ready = problems.Count == 0
            ? Condition(ReadyCondition, "True", "Valid", $"Selects {counts.Watched} Deployment(s)", generation)
            : Condition(ReadyCondition, "False", "InvalidSpec", string.Join("; ", problems), generation);
        var outranked = counts.Outranked.Count == 0
            ? Condition(OutrankedCondition, "False", "NoOlderPolicy", "Every Deployment this policy selects is governed by it", generation)
            : Condition(OutrankedCondition, "True", "OlderPolicyWins",
                $"{counts.Outranked.Count} Deployment(s) this policy selects are governed by an older policy (the oldest, then the first by name, wins): "
                + string.Join(", ", counts.Outranked.Take(5).Select(pair => $"{pair.Deployment} by {pair.Winner}"))
                + (counts.Outranked.Count > 5 ? ", ..." : ""),
                generation);

        List<V1Condition> conditions = [KeepTransitionTime(ready, current, now), KeepTransitionTime(outranked, current, now)];
        var unchanged = current is not null
            && current.WatchedDeployments == counts.Watched
            && current.ActiveHolds == counts.ActiveHolds
            && current.Conditions is { } existing
            && existing.Count == conditions.Count
            && conditions.All(wanted => existing.Any(have => SameCondition(have, wanted)));
        return unchanged
            ? null
            : new PrePullPolicyStatus
            {
                WatchedDeployments = counts.Watched,
                ActiveHolds = counts.ActiveHolds,
                LastUpdated = now.UtcDateTime,
                Conditions = conditions,
            };
    }

    private static V1Condition Condition(string type, string status, string reason, string message, long? generation) => new()
    {
        Type = type,
        Status = status,
        Reason = reason,
        Message = message,
        ObservedGeneration = generation,
    };

    private static V1Condition KeepTransitionTime(V1Condition wanted, PrePullPolicyStatus? current, DateTimeOffset now)
    {
        var previous = current?.Conditions?.FirstOrDefault(condition => condition.Type == wanted.Type);
        wanted.LastTransitionTime = previous is not null && previous.Status == wanted.Status && previous.LastTransitionTime is { } since
            ? since
            : now.UtcDateTime;
        return wanted;
    }

    private static bool SameCondition(V1Condition have, V1Condition wanted) =>
        have.Type == wanted.Type && have.Status == wanted.Status && have.Reason == wanted.Reason
        && have.Message == wanted.Message && have.ObservedGeneration == wanted.ObservedGeneration;
}
