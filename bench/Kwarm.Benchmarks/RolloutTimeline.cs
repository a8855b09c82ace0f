namespace Kwarm.Benchmarks;

/// <summary>
/// A rollout replayed from the pods' committed versions: old pods are those of the template hash running before the
/// image change, new pods every other hash. Readiness excludes pods being deleted, as endpoints do.
/// </summary>
internal sealed record RolloutTimeline(
    DateTimeOffset? CompletedAt,
    DateTimeOffset? FirstNewReadyAt,
    TimeSpan TwoVersions,
    int MinimumReady,
    IReadOnlySet<string> NewPods)
{
    public static RolloutTimeline Analyze(IReadOnlyList<PodCommit> commits, DateTimeOffset changedAt, int replicas)
    {
        var pods = new Dictionary<string, PodCommit>(StringComparer.Ordinal);
        var index = 0;
        for (; index < commits.Count && commits[index].At < changedAt; index++)
        {
            Apply(pods, commits[index]);
        }

        var oldHash = pods.Values.GroupBy(p => p.TemplateHash, StringComparer.Ordinal).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault() ?? "";
        var newPods = new HashSet<string>(StringComparer.Ordinal);
        var twoVersions = TimeSpan.Zero;
        var minimumReady = pods.Values.Count(p => p.Ready);
        DateTimeOffset? firstNewReady = null;
        var since = changedAt;
        for (; index < commits.Count; index++)
        {
            var commit = commits[index];
            if (pods.Values.Any(p => p.Ready && p.TemplateHash == oldHash) && pods.Values.Any(p => p.Ready && p.TemplateHash != oldHash))
            {
                twoVersions += commit.At - since;
            }

            since = commit.At;
            Apply(pods, commit);
            if (commit.TemplateHash != oldHash)
            {
                newPods.Add(commit.Uid);
            }

            var newReady = pods.Values.Count(p => p.Ready && p.TemplateHash != oldHash);
            firstNewReady ??= newReady > 0 ? commit.At : null;
            minimumReady = Math.Min(minimumReady, pods.Values.Count(p => p.Ready));
            if (newReady == replicas && !pods.Values.Any(p => p.TemplateHash == oldHash))
            {
                return new RolloutTimeline(commit.At, firstNewReady, twoVersions, minimumReady, newPods);
            }
        }

        return new RolloutTimeline(null, firstNewReady, twoVersions, minimumReady, newPods);
    }

    private static void Apply(Dictionary<string, PodCommit> pods, PodCommit commit)
    {
        if (commit.Gone)
        {
            pods.Remove(commit.Uid);
        }
        else
        {
            pods[commit.Uid] = commit;
        }
    }
}
