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
/// Fairness to small holds: shortest remaining first. Each grant goes to the PrePullImage with the fewest attempts
/// left to start (its demand, which the reconciler computes from the status, so a restart or a failover keeps the
/// order), ties to the older, then to the lower key. A hold that needs a few pulls is never queued behind one that needs
/// thousands: a 5-node PrePullImage arriving behind a 5,000-node one, or in a storm of a thousand image changes, takes
/// the next free slots on its nodes and finishes close to its own ideal time (DESIGN §9), while the big one gets every
/// slot that no smaller one can use (no slot idles while an attempt could start). Among equals it is first come, first
/// served: the earlier hold finishes first instead of all of them finishing late together. What this gives up: under an
/// endless stream of smaller holds a big one only gets the slots they leave; its <c>hold.maxDuration</c> still ends it.
/// (Round-robin by age, the order before, gave a 5-node PrePullImage one slot per rotation through every other one;
/// least-attained-service made a storm's small holds share the slots and finish together, at 3–5× their ideal.)
/// Idle nodes are served before a node gets a second pull (see <see cref="Plan"/>). A node warm-up's attempts
/// (<see cref="PullDemand.WarmsNodes"/>) are granted before all others, at each step, in the same order among them.
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

            var contenders = _demands.Values.Select(demand => new Contender(demand)).ToList();

            // Idle nodes first: a kubelet pulls one image at a time (serializeImagePulls, the default), so a second pull
            // on a busy node waits behind the first and holds a cluster-wide slot for nothing while another node idles.
            // Only when no attempt fits an idle node does a node get its second (up to --max-pulls-per-node) pull.
            int[] nodeLimits = MaxPullsPerNode > 1 ? [1, MaxPullsPerNode] : [MaxPullsPerNode];
            // Node warm-ups first: their nodes take no pods until warm (each class in its own shortest-first order).
            foreach (var nodeLimit in nodeLimits)
            {
                GrantShortestFirst([.. contenders.Where(contender => contender.Demand.WarmsNodes)], nodeLimit, perNode, existingKeys, build, stillWanted, grants, ref total);
                GrantShortestFirst([.. contenders.Where(contender => !contender.Demand.WarmsNodes)], nodeLimit, perNode, existingKeys, build, stillWanted, grants, ref total);
            }

            // Until the next reconcile replaces a demand, it remembers what was granted here: those attempts are no
            // longer waiting, and no longer count as work left.
            foreach (var contender in contenders.Where(contender => contender.GrantedNodes.Count > 0))
            {
                var remaining = contender.Demand.Attempts.Where(attempt => !contender.GrantedNodes.Contains(attempt.Node)).ToList();
                SetDemandLocked(contender.Demand with { Attempts = remaining });
            }

            return grants;
        }
    }

    /// <summary>
    /// Grants one attempt at a time to the demand with the fewest attempts left to start (then the oldest, then the lowest key),
    /// on nodes running fewer than <paramref name="nodeLimit"/> pulls, until the cluster cap is reached or no demand
    /// has an attempt that may start. A demand with nothing left to start in this pass leaves the queue.
    /// </summary>
    private void GrantShortestFirst(
        List<Contender> contenders,
        int nodeLimit,
        Dictionary<string, int> perNode,
        HashSet<string> existingKeys,
        Func<PullAttempt, V1Job> build,
        Func<PullAttempt, bool>? stillWanted,
        List<(PullAttempt, V1Job)> grants,
        ref int total)
    {
        var queue = new PriorityQueue<Contender, ServiceRank>(contenders.Count);
        foreach (var contender in contenders)
        {
            // Within one pass an attempt passed over stays unfit (node counts only grow), so each demand's attempts are
            // looked at once per node limit.
            contender.Next = 0;
            queue.Enqueue(contender, contender.Rank);
        }

        while (total < MaxConcurrentPulls && queue.TryDequeue(out var contender, out _))
        {
            if (NextGrantable(contender, nodeLimit, perNode, existingKeys, build, stillWanted) is not { } grant)
            {
                continue;
            }

            var (attempt, job) = grant;
            _reserved[ResourceKeys.For(job)] = new Reservation(job, attempt.Node, _timeProvider.GetUtcNow());
            perNode[attempt.Node] = perNode.GetValueOrDefault(attempt.Node) + 1;
            total++;
            grants.Add(grant);
            contender.GrantedNodes.Add(attempt.Node);
            queue.Enqueue(contender, contender.Rank);
        }
    }

    /// <summary>
    /// The demand's next attempt that may start: on a node below the limit, not started already, not backing off after
    /// a refused create, and still wanted.
    /// </summary>
    private (PullAttempt Attempt, V1Job Job)? NextGrantable(
        Contender contender,
        int nodeLimit,
        Dictionary<string, int> perNode,
        HashSet<string> existingKeys,
        Func<PullAttempt, V1Job> build,
        Func<PullAttempt, bool>? stillWanted)
    {
        var attempts = contender.Demand.Attempts;
        while (contender.Next < attempts.Count)
        {
            var attempt = attempts[contender.Next++];
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

            return (attempt, job);
        }

        return null;
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

    /// <summary>A demand during one scheduling pass: its service so far, where its scan stands, what it was granted.</summary>
    private sealed class Contender(PullDemand demand)
    {
        public PullDemand Demand { get; } = demand;

        /// <summary>The index of the next attempt to look at, in the current node-limit round.</summary>
        public int Next { get; set; }

        public HashSet<string> GrantedNodes { get; } = new(StringComparer.Ordinal);

        public ServiceRank Rank => new(Demand.Attempts.Count - GrantedNodes.Count, Demand.CreatedAt, Demand.Key);
    }

    /// <summary>Fewest attempts left to start first, then the oldest, then the lowest key (so the order is total).</summary>
    private readonly record struct ServiceRank(int Left, DateTime CreatedAt, string Key) : IComparable<ServiceRank>
    {
        public int CompareTo(ServiceRank other)
        {
            var byLeft = Left.CompareTo(other.Left);
            if (byLeft != 0)
            {
                return byLeft;
            }

            var byAge = CreatedAt.CompareTo(other.CreatedAt);
            return byAge != 0 ? byAge : string.CompareOrdinal(Key, other.Key);
        }
    }
}
