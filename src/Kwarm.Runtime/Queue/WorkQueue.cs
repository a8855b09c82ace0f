namespace Kwarm.Runtime;

/// <summary>
/// client-go's rate-limited delaying work queue.
/// <list type="bullet">
/// <item>A key is queued at most once, however often it is added (de-duplication).</item>
/// <item>A key is handed to one worker at a time: added while being processed, it is processed once more after
///   <see cref="Done"/>.</item>
/// <item><see cref="AddAfter"/> delays a key on the injected <see cref="TimeProvider"/>; the earliest pending time wins.</item>
/// <item><see cref="AddRateLimited"/> delays a key by the larger of base × 2^failures (capped; until <see cref="Forget"/>)
///   and the wait for a token of the queue's overall bucket (<see cref="WorkQueueOptions"/>: client-go's default
///   controller rate limiter).</item>
/// <item><see cref="ShutDownAsync"/> stops handing out keys — queued and delayed keys are dropped, since they belong
///   to a leader that is stepping down — and completes when every key in flight is <see cref="Done"/>.</item>
/// </list>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It is a queue; the name is the one controller authors know from client-go.")]
public sealed class WorkQueue<TKey> : IDisposable
    where TKey : notnull
{
    private readonly WorkQueueOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly TokenBucket _overall;
    private readonly string _name;
    private readonly RuntimeMetrics? _metrics;
    private readonly Dictionary<TKey, long> _addedAt = [];
    private readonly Dictionary<TKey, long> _startedAt = [];
    private readonly Lock _lock = new();
    private readonly Queue<TKey> _queue = new();
    private readonly HashSet<TKey> _dirty = [];
    private readonly HashSet<TKey> _processing = [];
    private readonly Dictionary<TKey, int> _failures = [];
    private readonly Dictionary<TKey, DelayedKey> _delayed = [];
    private readonly LinkedList<TaskCompletionSource<WorkItem<TKey>?>> _waiters = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _shuttingDown;

    /// <param name="name">The queue's name in its metrics (the controller's).</param>
    /// <param name="metrics">Where to report depth, adds, latencies and retries; null reports nothing.</param>
    public WorkQueue(WorkQueueOptions options, TimeProvider timeProvider, string name = "", RuntimeMetrics? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.BaseRetryDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRetryDelay, options.BaseRetryDelay);
        _options = options;
        _timeProvider = timeProvider;
        _overall = new TokenBucket(options.OverallRetriesPerSecond, options.OverallRetryBurst, timeProvider);
        _name = name;
        _metrics = metrics;
        _metrics?.AddQueue(name);
    }

    /// <summary>Keys ready to be handed out (not those in flight or still delayed).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Keys waiting for their delay (<see cref="AddAfter"/>, <see cref="AddRateLimited"/>) to pass before they are added.</summary>
    public int DelayedCount
    {
        get
        {
            lock (_lock)
            {
                return _delayed.Count;
            }
        }
    }

    public bool IsShuttingDown
    {
        get
        {
            lock (_lock)
            {
                return _shuttingDown;
            }
        }
    }

    public void Add(TKey key)
    {
        lock (_lock)
        {
            AddLocked(key);
        }
    }

    /// <summary>Adds <paramref name="key"/> once <paramref name="delay"/> has passed; a non-positive delay adds it now.</summary>
    public void AddAfter(TKey key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        lock (_lock)
        {
            AddAfterLocked(key, delay);
        }
    }

    /// <summary>
    /// Adds <paramref name="key"/> after the larger of its per-key backoff, which doubles with each call until
    /// <see cref="Forget"/>, and the overall bucket's wait.
    /// </summary>
    public void AddRateLimited(TKey key)
    {
        lock (_lock)
        {
            // One lock for both, so that anyone who sees the new failure count also finds the timer in place.
            var failures = _failures.GetValueOrDefault(key);
            _failures[key] = failures + 1;
            _metrics?.QueueRetried(_name);
            var perKey = RetryDelay(failures);
            var overall = _overall.Reserve();
            AddAfterLocked(key, perKey >= overall ? perKey : overall);
        }
    }

    /// <summary>Clears the key's failure count: call it after a successful reconcile.</summary>
    public void Forget(TKey key)
    {
        lock (_lock)
        {
            _failures.Remove(key);
        }
    }

    public int NumRequeues(TKey key)
    {
        lock (_lock)
        {
            return _failures.GetValueOrDefault(key);
        }
    }

    /// <summary>
    /// Waits for a key and marks it in flight. Returns null once the queue is shutting down.
    /// </summary>
    public async Task<WorkItem<TKey>?> GetAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<WorkItem<TKey>?> waiter;
        LinkedListNode<TaskCompletionSource<WorkItem<TKey>?>> node;
        lock (_lock)
        {
            if (_queue.TryDequeue(out var key))
            {
                _dirty.Remove(key);
                _processing.Add(key);
                Started(key);
                return new WorkItem<TKey>(key);
            }

            if (_shuttingDown)
            {
                return null;
            }

            waiter = new TaskCompletionSource<WorkItem<TKey>?>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
        }

        // A waiter is completed or cancelled only under the lock, and only while still listed, so a key is never
        // handed to a waiter that has just been cancelled.
        await using var registration = cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _waiters.Remove(node);
                    waiter.TrySetCanceled(cancellationToken);
                }
            }
        }).ConfigureAwait(false);
        return await waiter.Task.ConfigureAwait(false);
    }

    /// <summary>Ends the processing of <paramref name="key"/>; if it was added meanwhile, it is queued again.</summary>
    public void Done(TKey key)
    {
        lock (_lock)
        {
            _processing.Remove(key);
            if (_metrics is not null && _startedAt.Remove(key, out var started))
            {
                _metrics.QueueWorked(_name, _timeProvider.GetElapsedTime(started));
            }

            if (_dirty.Contains(key) && !_shuttingDown)
            {
                _dirty.Remove(key);
                Hand(key);
            }

            if (_shuttingDown && _processing.Count == 0)
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>Stops handing out keys and completes when every key in flight has been <see cref="Done"/>.</summary>
    public Task ShutDownAsync()
    {
        lock (_lock)
        {
            if (!_shuttingDown)
            {
                _shuttingDown = true;
                _queue.Clear();
                _dirty.Clear();
                _addedAt.Clear();
                _metrics?.SetQueueDepth(_name, 0);
                foreach (var delayed in _delayed.Values)
                {
                    delayed.Timer?.Dispose();
                }

                _delayed.Clear();
                foreach (var waiter in _waiters)
                {
                    waiter.TrySetResult(null);
                }

                _waiters.Clear();
            }

            if (_processing.Count == 0)
            {
                _drained.TrySetResult();
            }

            return _drained.Task;
        }
    }

    public void Dispose()
    {
        _ = ShutDownAsync();
    }

    private TimeSpan RetryDelay(int failures)
    {
        var milliseconds = _options.BaseRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 62));
        return milliseconds >= _options.MaxRetryDelay.TotalMilliseconds ? _options.MaxRetryDelay : TimeSpan.FromMilliseconds(milliseconds);
    }

    private void AddAfterLocked(TKey key, TimeSpan delay)
    {
        if (_shuttingDown)
        {
            return;
        }

        var readyAt = _timeProvider.GetUtcNow() + delay;
        if (_delayed.TryGetValue(key, out var pending))
        {
            if (pending.ReadyAt <= readyAt)
            {
                return;
            }

            pending.Timer?.Dispose();
        }

        var delayed = new DelayedKey(this, key, readyAt);
        _delayed[key] = delayed;
        delayed.Timer = _timeProvider.CreateTimer(static state => ((DelayedKey)state!).Fire(), delayed, delay, Timeout.InfiniteTimeSpan);
    }

    private void AddLocked(TKey key)
    {
        if (_shuttingDown || !_dirty.Add(key))
        {
            return;
        }

        // Counted as client-go does: once per key that was not already waiting, in flight or not.
        if (_metrics is not null)
        {
            _metrics.QueueAdded(_name);
            _addedAt.TryAdd(key, _timeProvider.GetTimestamp());
        }

        if (_processing.Contains(key))
        {
            return;
        }

        _dirty.Remove(key);
        Hand(key);
    }

    /// <summary>Gives <paramref name="key"/> to a waiting worker, or queues it. Called under the lock.</summary>
    private void Hand(TKey key)
    {
        if (_waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            _processing.Add(key);
            Started(key);
            first.Value.TrySetResult(new WorkItem<TKey>(key));
            return;
        }

        _dirty.Add(key);
        _queue.Enqueue(key);
        _metrics?.SetQueueDepth(_name, _queue.Count);
    }

    /// <summary>A worker took <paramref name="key"/>: its wait in the queue ends and its work starts. Called under the lock.</summary>
    private void Started(TKey key)
    {
        if (_metrics is null)
        {
            return;
        }

        var now = _timeProvider.GetTimestamp();
        if (_addedAt.Remove(key, out var added))
        {
            _metrics.QueueWaited(_name, _timeProvider.GetElapsedTime(added, now));
        }

        _startedAt[key] = now;
        _metrics.SetQueueDepth(_name, _queue.Count);
    }

    private sealed class DelayedKey(WorkQueue<TKey> queue, TKey key, DateTimeOffset readyAt)
    {
        public DateTimeOffset ReadyAt { get; } = readyAt;

        public ITimer? Timer { get; set; }

        public void Fire()
        {
            lock (queue._lock)
            {
                if (!queue._delayed.TryGetValue(key, out var current) || !ReferenceEquals(current, this))
                {
                    return;
                }

                queue._delayed.Remove(key);
                Timer?.Dispose();
                queue.AddLocked(key);
            }
        }
    }
}
