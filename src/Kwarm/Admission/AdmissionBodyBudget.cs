using System.Buffers;
using System.Numerics;

namespace Kwarm.Admission;

/// <summary>
/// The memory the webhook may hold for request bodies at once, shared by every admission request in flight.
/// </summary>
/// <remarks>
/// <para>DESIGN §9 keeps Kwarm under its memory limit with 30 % headroom also under 200 concurrent AdmissionReviews of
/// 3 MB. Unbounded, those 200 bodies alone are 600 MB: the process went from 86 to 230 MiB resident and stayed there
/// (docs/benchmarks.md, "Webhook memory"). So a request takes a buffer for its whole body from this budget before it
/// reads the body, and gives it back as soon as it has been decided, whatever happened meanwhile.</para>
/// <para>A request that does not fit waits its turn, first come first served (a large review is not overtaken for
/// ever by small ones), at most <see cref="MaxWait"/>; then it is answered HTTP 429 and, with the webhook's
/// <c>failurePolicy: Ignore</c>, the API server lets the change through un-held. The wait is bounded well under the
/// webhook's 5 s timeout so that the API server gets that answer, not a timeout, and the granted requests still have
/// time to be read and decided.</para>
/// <para>Buffers of up to <see cref="SmallBufferBytes"/> (the everyday review is about 20 KB) come from the shared
/// array pool. Larger ones are allocated in steps of <see cref="LargeBufferStep"/>, kept for reuse while requests
/// keep coming, and counted against the same capacity, pooled or not: the webhook never holds more than
/// <see cref="CapacityBytes"/> of bodies. Once no request has been in flight for <see cref="IdleTrimDelay"/>, the pooled
/// buffers are dropped and a garbage collection is asked for, since nothing else would collect those large objects
/// soon in an idle process: that is what gives a burst's memory back.</para>
/// </remarks>
public sealed class AdmissionBodyBudget : IDisposable
{
    /// <summary>
    /// 24 MiB: eight near-limit reviews at once, or about a thousand everyday ones. With Kwarm's own 110 MiB at
    /// 1,000 nodes and 5,000 Deployments (docs/benchmarks.md, "Scale") and the connections' own buffers, that stays
    /// under 179 MiB, 70 % of a 256 MiB limit (the manifests' default until the storm sizing of issue #18 raised it).
    /// </summary>
    public const long DefaultCapacityBytes = 24L * 1024 * 1024;

    /// <summary>Bodies up to this size use the shared array pool.</summary>
    public const int SmallBufferBytes = 128 * 1024;

    /// <summary>Large buffers are sized in these steps, so that reviews of similar size reuse each other's buffers.</summary>
    public const int LargeBufferStep = 256 * 1024;

    /// <summary>How long a request may wait for the budget before it is answered HTTP 429: 2 s of the webhook's 5 s timeout.</summary>
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromSeconds(2);

    /// <summary>How long the webhook stays without requests in flight before its pooled large buffers are dropped.</summary>
    public static readonly TimeSpan IdleTrimDelay = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly LinkedList<Waiter> _queue = new();
    private readonly Dictionary<int, Stack<byte[]>> _pooled = [];
    private readonly Action<long> _afterTrim;
    private long _inUse;
    private long _pooledBytes;
    private ITimer? _trimTimer;
    private bool _disposed;

    public AdmissionBodyBudget(TimeProvider time)
        : this(DefaultCapacityBytes, DefaultMaxWait, time)
    {
    }

    /// <param name="afterTrim">Called with the bytes dropped by an idle trim; by default, asks for a full collection.</param>
    public AdmissionBodyBudget(long capacityBytes, TimeSpan maxWait, TimeProvider time, Action<long>? afterTrim = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, BufferSizeFor((int)AdmissionEndpoint.MaxBodyBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, TimeSpan.Zero);
        CapacityBytes = capacityBytes;
        MaxWait = maxWait;
        _time = time;
        _afterTrim = afterTrim ?? CollectDroppedBuffers;
    }

    public long CapacityBytes { get; }

    public TimeSpan MaxWait { get; }

    /// <summary>Bytes of buffers given to requests and not yet returned.</summary>
    public long BytesInUse
    {
        get
        {
            lock (_lock)
            {
                return _inUse;
            }
        }
    }

    /// <summary>Bytes of large buffers kept for reuse (also within <see cref="CapacityBytes"/>).</summary>
    public long BytesPooled
    {
        get
        {
            lock (_lock)
            {
                return _pooledBytes;
            }
        }
    }

    /// <summary>Requests waiting for the budget now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>The length of the buffer, and so the share of the budget, that a body of <paramref name="length"/> bytes takes.</summary>
    public static int BufferSizeFor(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return length <= SmallBufferBytes
            ? (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(length, 16))
            : (int)((length + (long)LargeBufferStep - 1) / LargeBufferStep * LargeBufferStep);
    }

    /// <summary>
    /// A buffer of at least <paramref name="length"/> bytes, once the budget has room for it; null when it had none
    /// within <paramref name="wait"/>. Give it back with <see cref="Return"/>.
    /// </summary>
    public async ValueTask<byte[]?> TryRentAsync(int length, TimeSpan wait, CancellationToken cancellationToken)
    {
        var size = BufferSizeFor(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, CapacityBytes, nameof(length));
        cancellationToken.ThrowIfCancellationRequested();
        Waiter? waiter = null;
        byte[]? pooled = null;
        bool granted;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            granted = _queue.Count == 0 && TryTakeLocked(size, out pooled);
            if (!granted)
            {
                if (wait <= TimeSpan.Zero)
                {
                    return null;
                }

                waiter = new Waiter(size, this);
                waiter.Node = _queue.AddLast(waiter);
                waiter.Timer = _time.CreateTimer(static state => ((Waiter)state!).GiveUp(), waiter, wait, Timeout.InfiniteTimeSpan);
            }
        }

        if (granted)
        {
            return pooled ?? Allocate(size);
        }

        using (cancellationToken.Register(static state => ((Waiter)state!).GiveUp(), waiter))
        {
            if (!await waiter!.Granted.Task.ConfigureAwait(false))
            {
                // Cancelled (the client went away) or out of time.
                cancellationToken.ThrowIfCancellationRequested();
                return null;
            }
        }

        return waiter.Buffer ?? Allocate(size);
    }

    /// <summary>Gives a buffer from <see cref="TryRentAsync"/> back; its share of the budget goes to the next in line.</summary>
    public void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var small = buffer.Length <= SmallBufferBytes;
        if (small)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        lock (_lock)
        {
            _inUse -= buffer.Length;
            if (!small && !_disposed)
            {
                Pool(buffer);
            }

            GrantLocked();
            if (_inUse == 0 && _pooledBytes > 0 && !_disposed)
            {
                ScheduleTrimLocked();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _trimTimer?.Dispose();
            _pooled.Clear();
            _pooledBytes = 0;
            foreach (var waiter in _queue)
            {
                waiter.Timer?.Dispose();
                waiter.Granted.TrySetResult(false);
            }

            _queue.Clear();
        }
    }

    private static byte[] Allocate(int size) =>
        size <= SmallBufferBytes ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);

    /// <summary>Takes <paramref name="size"/> from the budget if it fits, with a pooled buffer of that size if one is kept.</summary>
    private bool TryTakeLocked(int size, out byte[]? pooled)
    {
        pooled = null;
        if (_inUse + size > CapacityBytes)
        {
            return false;
        }

        _inUse += size;
        if (size <= SmallBufferBytes)
        {
            // Small buffers are the shared pool's; the room they need is made by dropping large pooled ones.
            DropPooledLocked(_inUse + _pooledBytes - CapacityBytes);
            return true;
        }

        if (_pooled.TryGetValue(size, out var stack) && stack.TryPop(out pooled))
        {
            _pooledBytes -= size;
            return true;
        }

        DropPooledLocked(_inUse + _pooledBytes - CapacityBytes);
        return true;
    }

    private void Pool(byte[] buffer)
    {
        if (!_pooled.TryGetValue(buffer.Length, out var stack))
        {
            stack = new Stack<byte[]>();
            _pooled[buffer.Length] = stack;
        }

        stack.Push(buffer);
        _pooledBytes += buffer.Length;

        // Buffers in use and pooled stay within the capacity: a pooled buffer of another size makes way.
        DropPooledLocked(_inUse + _pooledBytes - CapacityBytes);
    }

    /// <summary>Drops pooled buffers, largest sizes first, until at least <paramref name="bytes"/> are gone.</summary>
    private long DropPooledLocked(long bytes)
    {
        long dropped = 0;
        if (bytes <= 0)
        {
            return dropped;
        }

        foreach (var size in _pooled.Keys.OrderDescending().ToList())
        {
            var stack = _pooled[size];
            while (dropped < bytes && stack.TryPop(out _))
            {
                dropped += size;
            }

            if (stack.Count == 0)
            {
                _pooled.Remove(size);
            }
        }

        _pooledBytes -= dropped;
        return dropped;
    }

    /// <summary>Grants the head of the queue while it fits: strictly in order of arrival.</summary>
    private void GrantLocked()
    {
        while (_queue.First is { } node && TryTakeLocked(node.Value.Size, out var pooled))
        {
            var waiter = node.Value;
            _queue.RemoveFirst();
            waiter.Node = null;
            waiter.Timer?.Dispose();
            waiter.Buffer = pooled;
            waiter.Granted.TrySetResult(true);
        }
    }

    private void GiveUp(Waiter waiter)
    {
        lock (_lock)
        {
            if (waiter.Node is null)
            {
                // Granted (or given up) already.
                return;
            }

            _queue.Remove(waiter.Node);
            waiter.Node = null;
            waiter.Timer?.Dispose();

            // The one that left may have been what held the others back.
            GrantLocked();
        }

        waiter.Granted.TrySetResult(false);
    }

    private void ScheduleTrimLocked()
    {
        _trimTimer?.Dispose();
        _trimTimer = _time.CreateTimer(static state => ((AdmissionBodyBudget)state!).TrimIfIdle(), this, IdleTrimDelay, Timeout.InfiniteTimeSpan);
    }

    private void TrimIfIdle()
    {
        long dropped;
        lock (_lock)
        {
            if (_disposed || _inUse > 0 || _queue.Count > 0)
            {
                // Busy again: the next return to idle schedules a new trim.
                return;
            }

            dropped = DropPooledLocked(_pooledBytes);
        }

        if (dropped > 0)
        {
            _afterTrim(dropped);
        }
    }

    /// <summary>
    /// The dropped buffers are large objects, collected only by a full collection, which an idle webhook would not
    /// cause for a long time; until then they stay resident. One aggressive collection after a burst (a compacting
    /// pause of a few tens of milliseconds, in a webhook idle for 5 s) gives them back to the system, with the rest of
    /// what the burst left free: measured, the native binary went from 88 MiB before a burst to 130 MiB during it and
    /// back to 105 MiB with a background collection, to 94 MiB with this one (docs/benchmarks.md, "Webhook memory").
    /// </summary>
    private static void CollectDroppedBuffers(long bytes) =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private sealed class Waiter(int size, AdmissionBodyBudget budget)
    {
        public int Size { get; } = size;

        public TaskCompletionSource<bool> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public ITimer? Timer { get; set; }

        /// <summary>A pooled buffer handed over with the grant; null when one is to be allocated.</summary>
        public byte[]? Buffer { get; set; }

        /// <summary>Out of time or cancelled: leaves the queue unless it was granted first.</summary>
        public void GiveUp() => budget.GiveUp(this);
    }
}
