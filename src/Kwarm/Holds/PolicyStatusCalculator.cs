using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>
/// The status a PrePullPolicy should show, from the policies and workloads (Deployments, StatefulSets, DaemonSets) in the caches. Pure: the clock only
/// stamps a condition whose status changed and <c>lastUpdated</c> when something did.
/// </summary>
public static class PolicyStatusCalculator
{
    public const string ReadyCondition = "Ready";

    /// <summary>True when some workload this policy selects is governed by an older (then lower-named) policy.</summary>
    public const string OutrankedCondition = "Outranked";

    /// <param name="Watched">Deployments this policy governs (<c>watchedDeployments</c>).</param>
    /// <param name="ActiveHolds">Workloads of every kind held under this policy.</param>
    /// <param name="Outranked">Workloads it selects that an older policy governs: "namespace/name" (a StatefulSet's or DaemonSet's prefixed with its kind), and the winner.</param>
    public sealed record Counts(int Watched, int ActiveHolds, IReadOnlyList<(string Deployment, string Winner)> Outranked)
    {
        public int WatchedStatefulSets { get; init; }

        public int WatchedDaemonSets { get; init; }

        /// <summary>How many workloads of <paramref name="kind"/> this policy governs.</summary>
        public int WatchedOf(WorkloadKind kind) => kind switch
        {
            WorkloadKind.StatefulSet => WatchedStatefulSets,
            WorkloadKind.DaemonSet => WatchedDaemonSets,
            _ => Watched,
        };
    }

    public static Counts Count(PrePullPolicy policy, IReadOnlyList<PrePullPolicy> policies, IEnumerable<V1Deployment> deployments)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        return CountWorkloads(policy, policies, deployments.Select(WorkloadObject.Of));
    }

    /// <summary>The counts over workloads of every kind (<see cref="Count"/> counts Deployments only).</summary>
    public static Counts CountWorkloads(PrePullPolicy policy, IReadOnlyList<PrePullPolicy> policies, IEnumerable<WorkloadObject> workloads)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(workloads);
        var name = policy.Metadata.Name;
        var watched = new Dictionary<WorkloadKind, int>();
        var active = 0;
        var outranked = new List<(string, string)>();
        foreach (var workload in workloads)
        {
            var kind = workload.Kind;
            var metadata = workload.Metadata;
            if (metadata.Annotations?.ValueOf(KwarmApi.HoldAnnotation) is { Length: > 0 }
                && metadata.Annotations.ValueOf(KwarmApi.PolicyAnnotation) == name)
            {
                active++;
            }

            if (!PolicyMatcher.Selects(policy, kind, metadata.NamespaceProperty, metadata.Labels))
            {
                continue;
            }

            var winner = PolicyMatcher.Select(policies, kind, metadata.NamespaceProperty, metadata.Labels);
            if (winner is null || winner.Metadata.Name == name)
            {
                watched[kind] = watched.GetValueOrDefault(kind) + 1;
            }
            else
            {
                var prefix = kind == WorkloadKind.Deployment ? "" : kind + " ";
                outranked.Add(($"{prefix}{metadata.NamespaceProperty}/{metadata.Name}", winner.Metadata.Name));
            }
        }

        return new Counts(watched.GetValueOrDefault(WorkloadKind.Deployment), active, outranked)
        {
            WatchedStatefulSets = watched.GetValueOrDefault(WorkloadKind.StatefulSet),
            WatchedDaemonSets = watched.GetValueOrDefault(WorkloadKind.DaemonSet),
        };
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
            ? Condition(ReadyCondition, "True", "Valid", Selection(counts), generation)
            : Condition(ReadyCondition, "False", "InvalidSpec", string.Join("; ", problems), generation);
        var outranked = counts.Outranked.Count == 0
            ? Condition(OutrankedCondition, "False", "NoOlderPolicy", "Every Deployment this policy selects is governed by it", generation)
            : Condition(OutrankedCondition, "True", "OlderPolicyWins",
                $"{counts.Outranked.Count} {(counts.Outranked.Any(pair => pair.Deployment.Contains(' ', StringComparison.Ordinal)) ? "workload(s)" : "Deployment(s)")} this policy selects are governed by an older policy (the oldest, then the first by name, wins): "
                + string.Join(", ", counts.Outranked.Take(5).Select(pair => $"{pair.Deployment} by {pair.Winner}"))
                + (counts.Outranked.Count > 5 ? ", ..." : ""),
                generation);

        List<V1Condition> conditions = [KeepTransitionTime(ready, current, now), KeepTransitionTime(outranked, current, now)];
        var unchanged = current is not null
            && current.WatchedDeployments == counts.Watched
            && (current.WatchedStatefulSets ?? 0) == counts.WatchedStatefulSets
            && (current.WatchedDaemonSets ?? 0) == counts.WatchedDaemonSets
            && current.ActiveHolds == counts.ActiveHolds
            && current.Conditions is { } existing
            && existing.Count == conditions.Count
            && conditions.All(wanted => existing.Any(have => SameCondition(have, wanted)));
        return unchanged
            ? null
            : new PrePullPolicyStatus
            {
                WatchedDeployments = counts.Watched,
                WatchedStatefulSets = counts.WatchedStatefulSets,
                WatchedDaemonSets = counts.WatchedDaemonSets,
                ActiveHolds = counts.ActiveHolds,
                LastUpdated = now.UtcDateTime,
                Conditions = conditions,
            };
    }

    /// <summary>"Selects N Deployment(s)", with the StatefulSets and DaemonSets when there are any.</summary>
    private static string Selection(Counts counts)
    {
        var text = $"Selects {counts.Watched} Deployment(s)";
        if (counts.WatchedStatefulSets > 0 || counts.WatchedDaemonSets > 0)
        {
            text += $", {counts.WatchedStatefulSets} StatefulSet(s), {counts.WatchedDaemonSets} DaemonSet(s)";
        }

        return text;
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
