using k8s.Models;
using Kwarm.Kubernetes;

namespace Kwarm.Pulling;

/// <summary>
/// Decides which pull attempts start, under the cluster-wide cap (<c>--max-concurrent-pulls</c>) and the per-node cap
/// (<c>--max-pulls-per-node</c>), fairly across PrePullImages.
/// <para>
/// Running pulls are counted from the Jobs that exist (the Job cache), plus Jobs this process decided to create and
/// has not yet seen in the cache, so neither a restart nor a failover (the new leader sees the old one's Jobs) nor
/// the window between a create and its watch event can push a count past a cap. Only one scheduling pass runs at a
/// time (<see cref="Plan"/> holds a lock, and the controller runs it from a single work-queue key), and a granted
/// attempt is reserved before its Job is created, so concurrent reconciles never race past a cap either.
/// </para>
/// <para>
/// Fairness: PrePullImages are ordered by age (then key) and served round-robin, one attempt each per round; the
/// next pass starts after the last PrePullImage served, so a young PrePullImage is never starved by an old, big one.
/// Idle nodes are served before a node gets a second pull (see <see cref="Plan"/>). A node warm-up's attempts
/// (<see cref="PullDemand.WarmsNodes"/>) are granted before all others, at each step.
/// </para>
/// </summary>
public sealed class PullScheduler
{
    /// <summary>A reservation the cache never confirmed (a create that vanished) stops counting after this long.</summary>
    public static readonly TimeSpan ReservationLifetime = TimeSpan.FromMinutes(2);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, PullDemand> _demands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Reservation> _reserved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Failures, DateTimeOffset Until)> _createBackoff = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private (DateTime CreatedAt, string Key)? _lastServed;

    public PullScheduler(int maxConcurrentPulls, int maxPullsPerNode, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrentPulls, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPullsPerNode, 1);
        MaxConcurrentPulls = maxConcurrentPulls;
        MaxPullsPerNode = maxPullsPerNode;
        _timeProvider = timeProvider;
    }

    public int MaxConcurrentPulls { get; }

    public int MaxPullsPerNode { get; }

    public bool HasDemand
    {
        get
        {
            lock (_lock)
            {
                return _demands.Count > 0;
            }
        }
    }

    /// <summary>Replaces what a PrePullImage waits for (empty removes it).</summary>
    public void SetDemand(PullDemand demand)
    {
        ArgumentNullException.ThrowIfNull(demand);
        lock (_lock)
        {
            if (demand.Attempts.Count == 0)
            {
                _demands.Remove(demand.Key);
            }
            else
            {
                _demands[demand.Key] = demand;
            }
        }
    }

    public void RemoveDemand(string key)
    {
        lock (_lock)
        {
            _demands.Remove(key);
        }
    }

    /// <summary>
    /// Grants attempts while both caps allow and reserves each one (as the Job it will create) until the cache shows
    /// the Job or <see cref="Release"/> is called. <paramref name="existingJobs"/> are all pull Jobs in the cache.
    /// </summary>
    /// <param name="stillWanted">
    /// Checked for each attempt just before it is granted: a demand may be older than the status (a reconcile that
    /// recorded the attempt's end may not have replaced it yet), and a pull must never be started twice.
    /// </param>
    public IReadOnlyList<(PullAttempt Attempt, V1Job Job)> Plan(
        IReadOnlyList<V1Job> existingJobs, Func<PullAttempt, V1Job> build, IReadOnlyList<V1Pod>? pods = null, Func<PullAttempt, bool>? stillWanted = null)
    {
        ArgumentNullException.ThrowIfNull(existingJobs);
        ArgumentNullException.ThrowIfNull(build);
        lock (_lock)
        {
            var (total, perNode) = CountLocked(existingJobs, pods ?? []);
            var existingKeys = existingJobs.Select(ResourceKeys.For).ToHashSet(StringComparer.Ordinal);
            var grants = new List<(PullAttempt, V1Job)>();
            if (total >= MaxConcurrentPulls || _demands.Count == 0)
            {
                return grants;
            }

            var byAge = _demands.Values.OrderBy(demand => demand.CreatedAt).ThenBy(demand => demand.Key, StringComparer.Ordinal).ToList();

            // Idle nodes first: a kubelet pulls one image at a time (serializeImagePulls, the default), so a second pull
            // on a busy node waits behind the first and holds a cluster-wide slot for nothing while another node idles.
            // Only when no attempt fits an idle node does a node get its second (up to --max-pulls-per-node) pull; each
            // round-robin resumes after the PrePullImage served last.
            int[] nodeLimits = MaxPullsPerNode > 1 ? [1, MaxPullsPerNode] : [MaxPullsPerNode];
            // Node warm-ups first: their nodes take no pods until warm (each class keeps its own round-robin order).
            foreach (var nodeLimit in nodeLimits)
            {
                GrantRounds(AfterLastServed([.. byAge.Where(demand => demand.WarmsNodes)]), nodeLimit, perNode, existingKeys, build, stillWanted, grants, ref total);
                GrantRounds(AfterLastServed([.. byAge.Where(demand => !demand.WarmsNodes)]), nodeLimit, perNode, existingKeys, build, stillWanted, grants, ref total);
            }

            foreach (var (attempt, _) in grants)
            {
                if (_demands.TryGetValue(ResourceKeys.For(attempt.PrePullImage), out var demand))
                {
                    var remaining = demand.Attempts.Where(other => other.Node != attempt.Node).ToList();
                    SetDemandLocked(demand with { Attempts = remaining });
                }
            }

            return grants;
        }
    }

    private List<PullDemand> AfterLastServed(List<PullDemand> byAge)
    {
        if (_lastServed is not { } last)
        {
            return byAge;
        }

        var next = byAge.FindIndex(demand => demand.CreatedAt > last.CreatedAt
            || (demand.CreatedAt == last.CreatedAt && string.CompareOrdinal(demand.Key, last.Key) > 0));
        return next > 0 ? [.. byAge.Skip(next), .. byAge.Take(next)] : byAge;
    }

    /// <summary>Round-robin over the demands, one attempt each per round, on nodes running fewer than <paramref name="nodeLimit"/> pulls.</summary>
    private void GrantRounds(
        List<PullDemand> ordered,
        int nodeLimit,
        Dictionary<string, int> perNode,
        HashSet<string> existingKeys,
        Func<PullAttempt, V1Job> build,
        Func<PullAttempt, bool>? stillWanted,
        List<(PullAttempt, V1Job)> grants,
        ref int total)
    {
        var cursors = new int[ordered.Count];
        var progress = true;
        while (progress && total < MaxConcurrentPulls)
        {
            progress = false;
            for (var i = 0; i < ordered.Count && total < MaxConcurrentPulls; i++)
            {
                // This PrePullImage's next attempt that may start: on a node below the limit, not started already,
                // not backing off after a refused create, and still wanted.
                var attempts = ordered[i].Attempts;
                while (cursors[i] < attempts.Count)
                {
                    var attempt = attempts[cursors[i]++];
                    if (perNode.GetValueOrDefault(attempt.Node) >= nodeLimit)
                    {
                        continue;
                    }

                    var job = build(attempt);
                    var key = ResourceKeys.For(job);
                    if (_reserved.ContainsKey(key) || existingKeys.Contains(key) || InCreateBackoff(key) || stillWanted?.Invoke(attempt) == false)
                    {
                        continue;
                    }

                    _reserved[key] = new Reservation(job, attempt.Node, _timeProvider.GetUtcNow());
                    perNode[attempt.Node] = perNode.GetValueOrDefault(attempt.Node) + 1;
                    total++;
                    grants.Add((attempt, job));
                    _lastServed = (ordered[i].CreatedAt, ordered[i].Key);
                    progress = true;
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Pulls running now: Jobs in the cache and unfinished, Jobs reserved and not yet seen there, and pull pods still
    /// running whose Job is gone (a finished attempt's Job is deleted at once; its pod goes a moment later, and until
    /// then it still occupies the node).
    /// </summary>
    public int CountActive(IReadOnlyList<V1Job> existingJobs, IReadOnlyList<V1Pod>? pods = null)
    {
        lock (_lock)
        {
            return CountLocked(existingJobs, pods ?? []).Total;
        }
    }

    /// <summary>
    /// The Jobs created for one owner that the cache does not show yet. Granted Jobs whose create has not answered
    /// are left out: until it does, the attempt has not started.
    /// </summary>
    public IReadOnlyList<V1Job> ReservedFor(string ownerUid)
    {
        lock (_lock)
        {
            return [.. _reserved.Values
                .Where(reservation => reservation.Created is not null && reservation.Job.Metadata.OwnerReferences?.Any(owner => owner.Uid == ownerUid) == true)
                .Select(reservation => reservation.Created!)];
        }
    }

    /// <summary>Nodes of one owner whose granted Job has not answered its create yet.</summary>
    public IReadOnlySet<string> StartingFor(string ownerUid)
    {
        lock (_lock)
        {
            return _reserved.Values
                .Where(reservation => reservation.Created is null && reservation.Job.Metadata.OwnerReferences?.Any(owner => owner.Uid == ownerUid) == true)
                .Select(reservation => reservation.Node)
                .ToHashSet(StringComparer.Ordinal);
        }
    }

    /// <summary>Whether the Job of this key was granted and is not yet seen in the cache (its create may be in flight).</summary>
    public bool IsReserved(string jobKey)
    {
        lock (_lock)
        {
            return _reserved.ContainsKey(jobKey);
        }
    }

    /// <summary>The create of a granted Job succeeded (or found it existing): its owner may now see it.</summary>
    public void Created(string jobKey, V1Job job)
    {
        lock (_lock)
        {
            if (_reserved.TryGetValue(jobKey, out var reservation))
            {
                _reserved[jobKey] = reservation with { Created = job };
            }
        }
    }

    /// <summary>
    /// The cache has shown this Job. Its reservation stays until a count is given a list of Jobs that contains it:
    /// a list taken a moment before this event (by a worker about to plan) does not show the Job yet, and without the
    /// reservation that worker would see a free slot that is not free.
    /// </summary>
    public void Observed(string jobKey)
    {
        lock (_lock)
        {
            _createBackoff.Remove(jobKey);
        }
    }

    /// <summary>The cache has deleted this Job: it no longer holds a slot (a pod it leaves behind is counted as a pod).</summary>
    public void Gone(string jobKey) => Release(jobKey);

    /// <summary>Gives the slot of a grant back (its create was never sent).</summary>
    public void Release(string jobKey)
    {
        lock (_lock)
        {
            _reserved.Remove(jobKey);
            _createBackoff.Remove(jobKey);
        }
    }

    /// <summary>
    /// The create of a granted Job failed: gives the slot back and keeps that Job from being granted again for a
    /// growing delay (1 s, doubling, at most 5 min), which it returns.
    /// </summary>
    public TimeSpan CreateFailed(string jobKey)
    {
        lock (_lock)
        {
            _reserved.Remove(jobKey);
            var failures = _createBackoff.TryGetValue(jobKey, out var previous) ? previous.Failures + 1 : 1;
            var delay = TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, Math.Min(failures - 1, 10))));
            _createBackoff[jobKey] = (failures, _timeProvider.GetUtcNow() + delay);
            return delay;
        }
    }

    private bool InCreateBackoff(string jobKey)
    {
        if (!_createBackoff.TryGetValue(jobKey, out var backoff))
        {
            return false;
        }

        if (backoff.Until <= _timeProvider.GetUtcNow())
        {
            // Eligible again; the failure count stays, so a second refusal waits longer. Forgotten once the Job exists.
            return false;
        }

        return true;
    }

    /// <summary>A running pull, for the caps: a Job that exists, is not being deleted, and has not finished.</summary>
    public static bool IsActive(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.Metadata?.DeletionTimestamp is null
            && job.Status?.Conditions?.Any(condition => condition.Type is "Complete" or "Failed" && condition.Status == "True") != true;
    }

    private (int Total, Dictionary<string, int> PerNode) CountLocked(IReadOnlyList<V1Job> existingJobs, IReadOnlyList<V1Pod> pods)
    {
        var now = _timeProvider.GetUtcNow();
        foreach (var stale in _reserved.Where(pair => now - pair.Value.At > ReservationLifetime).Select(pair => pair.Key).ToList())
        {
            _reserved.Remove(stale);
        }

        var perNode = new Dictionary<string, int>(StringComparer.Ordinal);
        var total = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);

        // A pull whose container reports an imageID is over (DESIGN §5: the attempt has succeeded): its Job and pod
        // may linger until the status is written, the Job deleted and the pod collected, but they pull nothing.
        var pulled = pods.Where(HasPulled).Select(JobKeyOf).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var job in existingJobs)
        {
            var key = ResourceKeys.For(job);
            seen.Add(key);
            // Every later list shows it too (until it is deleted): from now on it counts from the cache alone.
            _reserved.Remove(key);
            if (!IsActive(job) || pulled.Contains(key) || PullPlanner.NodeOf(job) is not { } node)
            {
                continue;
            }

            total++;
            perNode[node] = perNode.GetValueOrDefault(node) + 1;
        }

        foreach (var (key, reservation) in _reserved)
        {
            if (seen.Contains(key))
            {
                continue;
            }

            seen.Add(key);
            total++;
            perNode[reservation.Node] = perNode.GetValueOrDefault(reservation.Node) + 1;
        }

        foreach (var pod in pods)
        {
            if (JobKeyOf(pod) is not { } job || seen.Contains(job) || !IsRunning(pod))
            {
                continue;
            }

            total++;
            var node = pod.Spec?.NodeName;
            if (!string.IsNullOrEmpty(node))
            {
                perNode[node] = perNode.GetValueOrDefault(node) + 1;
            }
        }

        return (total, perNode);
    }

    private static bool IsRunning(V1Pod pod) =>
        pod.Status?.Phase is not ("Succeeded" or "Failed") && pod.Metadata?.Labels?.ContainsKey(PullObjectNames.PrePullImageLabel) == true && !HasPulled(pod);

    /// <summary>The key of the Job that owns a pod, when a Job does.</summary>
    public static string? JobKeyOf(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return pod.Metadata?.OwnerReferences?.FirstOrDefault(owner => owner.Kind == "Job")?.Name is { } job
            ? ResourceKeys.For(pod.Metadata.NamespaceProperty, job)
            : null;
    }

    /// <summary>Whether a pull pod's pull container reports an imageID: the image is on the node, the pull no longer runs.</summary>
    public static bool HasPulled(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return pod.Status?.ContainerStatuses?.Any(status => status.Name == PullJobTemplate.PullContainer && !string.IsNullOrEmpty(status.ImageID)) == true;
    }

    private void SetDemandLocked(PullDemand demand)
    {
        if (demand.Attempts.Count == 0)
        {
            _demands.Remove(demand.Key);
        }
        else
        {
            _demands[demand.Key] = demand;
        }
    }

    private sealed record Reservation(V1Job Job, string Node, DateTimeOffset At, V1Job? Created = null);
}
