using System.Threading.Channels;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// An event-driven control loop: store events are mapped to keys (under the store lock, so only enqueue there),
/// a deduplicating queue feeds one reconcile at a time, and a reconcile may ask to run again later.
/// </summary>
public abstract class Controller
{
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly Lock _queuedLock = new();
    private readonly Dictionary<string, DateTimeOffset> _timers = new(StringComparer.Ordinal);

    protected Controller(SimulationContext context)
    {
        Context = context;
    }

    protected SimulationContext Context { get; }

    protected ObjectStore Store => Context.Store;

    /// <summary>Maps a committed change to the keys to reconcile. Runs under the store lock: enqueue only.</summary>
    public abstract void OnEvent(StoreEvent change);

    protected abstract Task ReconcileAsync(string key, CancellationToken cancellationToken);

    public void Enqueue(string key)
    {
        lock (_queuedLock)
        {
            if (!_queued.Add(key))
            {
                return;
            }
        }

        _queue.Writer.TryWrite(key);
    }

    /// <summary>Reconciles <paramref name="key"/> again after a (simulated) delay.</summary>
    public void EnqueueAfter(string key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Enqueue(key);
            return;
        }

        var due = Context.Time.GetUtcNow() + delay;
        lock (_queuedLock)
        {
            // One timer per key is enough when an earlier one is already set.
            if (_timers.TryGetValue(key, out var pending) && pending <= due)
            {
                return;
            }

            _timers[key] = due;
        }

        ITimer? timer = null;
        timer = Context.Time.CreateTimer(
            _ =>
            {
                lock (_queuedLock)
                {
                    if (_timers.TryGetValue(key, out var pending) && pending == due)
                    {
                        _timers.Remove(key);
                    }
                }

                Enqueue(key);
                timer?.Dispose();
            },
            null,
            delay,
            Timeout.InfiniteTimeSpan);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var key))
                {
                    lock (_queuedLock)
                    {
                        _queued.Remove(key);
                    }

                    try
                    {
                        await ReconcileAsync(key, cancellationToken).ConfigureAwait(false);
                    }
                    catch (ApiException e) when (e.Code is 409 or 404)
                    {
                        // Someone else changed or removed the object meanwhile: look again with fresh state.
                        EnqueueAfter(key, TimeSpan.FromMilliseconds(10));
                    }
                    catch (ApiException e) when (e.Code == 403)
                    {
                        // Refused by admission (e.g. a missing service account): retry as the real controllers do.
                        EnqueueAfter(key, TimeSpan.FromSeconds(1));
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
#pragma warning disable CA1031 // One bad object must not stop the controller for every other object.
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        Context.ReportError(GetType().Name, key, e);
                        EnqueueAfter(key, TimeSpan.FromSeconds(1));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>
    /// The live object a key names: <c>namespace/name</c> from its own events, or <c>uid:…</c> from a dependent's
    /// owner reference. Null when it is gone, being deleted, or (for a uid) of another type.
    /// </summary>
    protected StoredObject? Resolve(string key, ResourceType type)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(type);
        StoredObject? stored;
        if (key.StartsWith("uid:", StringComparison.Ordinal))
        {
            stored = Store.GetByUid(key[4..]);
            if (stored is not null && stored.Type.StorageKey != type.StorageKey)
            {
                return null;
            }
        }
        else
        {
            var (ns, name) = Split(key);
            stored = Store.Get(type, ns, name);
        }

        return stored is null || stored.Deleting ? null : stored;
    }

    protected static (string Namespace, string Name) Split(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? ("", key) : (key[..slash], key[(slash + 1)..]);
    }
}
