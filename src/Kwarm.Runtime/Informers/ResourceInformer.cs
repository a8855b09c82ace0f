using System.Collections.Immutable;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Kwarm.Runtime;

/// <summary>
/// Keeps a <see cref="ResourceCache{T}"/> equal to the API server's view of one resource type and tells
/// subscribers what changed. Data flows one way: watch → cache → subscribers (which enqueue keys) → work
/// queue → reconcile → API write.
/// <para>
/// A paged LIST (<c>limit</c>/<c>continue</c>) fills the cache; a WATCH with <c>allowWatchBookmarks</c>
/// resumes from the list's resourceVersion, and every event or bookmark moves that resourceVersion on.
/// A dropped connection, an error event or a failed request is retried with jittered, capped exponential
/// backoff from the last resourceVersion; a watch silent for longer than
/// <see cref="ResourceInformerOptions.WatchSilenceLimit"/> is restarted; <c>410 Expired</c> (as a watch
/// ERROR event or an HTTP answer) forces a full relist, after which subscribers get Deleted for what
/// vanished and Added/Updated for what differs, so no change is ever missed.
/// </para>
/// Every object passes through the transform (client-go's <c>SetTransform</c>: typically a trimmer that keeps only the
/// fields the application reads) before it enters the cache or reaches a subscriber.
/// Subscribers run on the informer's loop, after the cache has been updated: they must be quick
/// (enqueue a key) and must not block.
/// </summary>
public sealed class ResourceInformer<T> : IResourceInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly TimeSpan MinimumHealthyWatch = TimeSpan.FromSeconds(1);

    private readonly IResourceListWatcher<T> _source;
    private readonly ResourceInformerOptions _options;
    private readonly Func<T, T> _transform;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RuntimeMetrics? _metrics;
    private readonly Lock _dispatchLock = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ImmutableArray<Action<ResourceEvent<T>>> _handlers = [];
    private string _resourceVersion = "";

    public ResourceInformer(
        IResourceListWatcher<T> source,
        ResourceInformerOptions options,
        Func<T, T>? transform,
        TimeProvider timeProvider,
        ILogger<ResourceInformer<T>> logger,
        IEnumerable<ResourceIndexer<T>>? indexers = null,
        RuntimeMetrics? metrics = null)
    {
        _source = source;
        _options = options;
        _transform = transform ?? (resource => resource);
        _timeProvider = timeProvider;
        _logger = logger;
        Cache = new ResourceCache<T>(indexers);
        _metrics = metrics;
        _metrics?.AddInformer(Name);
    }

    public string Name => _source.Kind.Plural;

    public ResourceCache<T> Cache { get; }

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion the next watch will resume from.</summary>
    internal string LastResourceVersion => Volatile.Read(ref _resourceVersion);

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Adds a handler and replays every cached object to it as Added, atomically with respect to live events,
    /// so a controller that starts late (after winning leader election) sees the whole world exactly once.
    /// Dispose the result to unsubscribe.
    /// </summary>
    public IDisposable Subscribe(Action<ResourceEvent<T>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_dispatchLock)
        {
            _handlers = _handlers.Add(handler);
            foreach (var resource in Cache.List())
            {
                Invoke(handler, new ResourceEvent<T>(ResourceEventType.Added, resource));
            }
        }

        return new Subscription(() =>
        {
            lock (_dispatchLock)
            {
                _handlers = _handlers.Remove(handler);
            }
        });
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new JitteredBackoff(_options.InitialBackoff, _options.MaxBackoff);
        var mustList = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan? delay = null;
            if (mustList)
            {
                try
                {
                    // The backoff is not reset here but when a watch delivers something: a server that answers every
                    // watch with 410 must not be relisted in a tight loop.
                    await RelistAsync(cancellationToken).ConfigureAwait(false);
                    mustList = false;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // A continue token that expired mid-paging is answered with 410 too: starting over is all there is to do.
                    delay = backoff.Next();
                    _metrics?.InformerRestarted(Name, RuntimeMetrics.RestartReasons.Error);
                    _logger.ListFailed(ApiErrors.IsTransient(ex) ? null : ex, Name, ApiErrors.Describe(ex), delay.Value);
                }
            }
            else
            {
                try
                {
                    var outcome = await WatchOnceAsync(backoff, cancellationToken).ConfigureAwait(false);
                    _metrics?.InformerRestarted(Name, outcome switch
                    {
                        WatchOutcome.Expired or WatchOutcome.ExpiredAtOnce => RuntimeMetrics.RestartReasons.Expired,
                        WatchOutcome.Failed => RuntimeMetrics.RestartReasons.Error,
                        WatchOutcome.Silent => RuntimeMetrics.RestartReasons.Silent,
                        _ => RuntimeMetrics.RestartReasons.Closed,
                    });
                    if (outcome == WatchOutcome.Expired)
                    {
                        mustList = true;
                    }
                    else if (outcome == WatchOutcome.ExpiredAtOnce)
                    {
                        mustList = true;
                        delay = backoff.Next();
                    }
                    else if (outcome == WatchOutcome.Failed)
                    {
                        delay = backoff.Next();
                        _logger.WatchFailed(null, Name, "the server ended it with an error event or at once", LastResourceVersion, delay.Value);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ApiErrors.IsExpired(ex))
                {
                    _metrics?.InformerRestarted(Name, RuntimeMetrics.RestartReasons.Expired);
                    _logger.Expired(Name, LastResourceVersion, ApiErrors.StatusOf(ex)?.Message);
                    mustList = true;
                    delay = backoff.Next();
                }
                catch (Exception ex)
                {
                    delay = backoff.Next();
                    _metrics?.InformerRestarted(Name, RuntimeMetrics.RestartReasons.Error);
                    _logger.WatchFailed(ApiErrors.IsTransient(ex) ? null : ex, Name, ApiErrors.Describe(ex), LastResourceVersion, delay.Value);
                }
            }

            if (delay is { } wait)
            {
                try
                {
                    await Task.Delay(wait, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task RelistAsync(CancellationToken cancellationToken)
    {
        // Every page is collected before the cache is touched: a relist that fails halfway must not report deletions.
        var fresh = new Dictionary<string, T>(StringComparer.Ordinal);
        string? continueToken = null;
        var resourceVersion = "";
        do
        {
            var page = await _source.ListAsync(
                new ListRequest(_options.LabelSelector, _options.FieldSelector, _options.PageSize, continueToken),
                cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                var trimmed = _transform(item);
                fresh[ResourceKeys.For(trimmed)] = trimmed;
            }

            continueToken = page.Continue;
            resourceVersion = page.ResourceVersion;
        }
        while (continueToken is not null);

        lock (_dispatchLock)
        {
            var diff = Cache.Replace(fresh);
            foreach (var gone in diff.Deleted)
            {
                Dispatch(new ResourceEvent<T>(ResourceEventType.Deleted, gone));
            }

            foreach (var added in diff.Added)
            {
                Dispatch(new ResourceEvent<T>(ResourceEventType.Added, added));
            }

            foreach (var (current, previous) in diff.Updated)
            {
                Dispatch(new ResourceEvent<T>(ResourceEventType.Updated, current, previous));
            }

            Volatile.Write(ref _resourceVersion, resourceVersion);
            _logger.Listed(Name, fresh.Count, resourceVersion, diff.Added.Count, diff.Updated.Count, diff.Deleted.Count);
        }

        if (_synced.TrySetResult())
        {
            _logger.Synced(Name);
        }
    }

    private async Task<WatchOutcome> WatchOnceAsync(JitteredBackoff backoff, CancellationToken cancellationToken)
    {
        var resourceVersion = LastResourceVersion;
        _logger.Watching(Name, resourceVersion);
        var serverTimeout = _options.ServerWatchTimeout * (1 + Random.Shared.NextDouble());
        var started = _timeProvider.GetTimestamp();
        var received = 0;

        using var watchCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var silent = 0;
        using var silenceTimer = _timeProvider.CreateTimer(
            _ =>
            {
                Volatile.Write(ref silent, 1);
                try
                {
                    watchCancellation.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The watch ended while the timer fired.
                }
            },
            null,
            _options.WatchSilenceLimit,
            Timeout.InfiniteTimeSpan);

        try
        {
            var request = new WatchRequest(_options.LabelSelector, _options.FieldSelector, resourceVersion, serverTimeout);
            await foreach (var watchEvent in _source.WatchAsync(request, watchCancellation.Token).ConfigureAwait(false))
            {
                silenceTimer.Change(_options.WatchSilenceLimit, Timeout.InfiniteTimeSpan);
                if (watchEvent.Type == WatchEventType.Error)
                {
                    var status = watchEvent.Status;
                    if (ApiErrors.IsExpired(status))
                    {
                        _logger.Expired(Name, LastResourceVersion, status?.Message);
                        return received == 0 ? WatchOutcome.ExpiredAtOnce : WatchOutcome.Expired;
                    }

                    _logger.WatchErrorEvent(Name, status?.Code, status?.Reason, status?.Message);
                    return WatchOutcome.Failed;
                }

                if (received++ == 0)
                {
                    backoff.Reset();
                }

                Apply(watchEvent);
            }
        }
        catch (OperationCanceledException) when (Volatile.Read(ref silent) == 1 && !cancellationToken.IsCancellationRequested)
        {
            _logger.WatchSilent(Name, _options.WatchSilenceLimit, LastResourceVersion);
            return WatchOutcome.Silent;
        }

        // A server that closes watches at once, again and again, must not turn this loop into a busy one.
        return received == 0 && _timeProvider.GetElapsedTime(started) < MinimumHealthyWatch
            ? WatchOutcome.Failed
            : WatchOutcome.Restart;
    }

    private void Apply(ResourceWatchEvent<T> watchEvent)
    {
        var resource = watchEvent.Resource!;
        var resourceVersion = resource.Metadata?.ResourceVersion;
        if (watchEvent.Type == WatchEventType.Bookmark)
        {
            if (!string.IsNullOrEmpty(resourceVersion))
            {
                Volatile.Write(ref _resourceVersion, resourceVersion);
            }

            return;
        }

        var trimmed = _transform(resource);
        lock (_dispatchLock)
        {
            if (watchEvent.Type == WatchEventType.Deleted)
            {
                var removed = Cache.Remove(ResourceKeys.For(trimmed));
                Dispatch(new ResourceEvent<T>(ResourceEventType.Deleted, removed ?? trimmed));
            }
            else
            {
                var previous = Cache.Upsert(trimmed);
                Dispatch(previous is null
                    ? new ResourceEvent<T>(ResourceEventType.Added, trimmed)
                    : new ResourceEvent<T>(ResourceEventType.Updated, trimmed, previous));
            }

            if (!string.IsNullOrEmpty(resourceVersion))
            {
                Volatile.Write(ref _resourceVersion, resourceVersion);
            }
        }
    }

    private void Dispatch(ResourceEvent<T> resourceEvent)
    {
        foreach (var handler in _handlers)
        {
            Invoke(handler, resourceEvent);
        }
    }

    private void Invoke(Action<ResourceEvent<T>> handler, ResourceEvent<T> resourceEvent)
    {
        try
        {
            handler(resourceEvent);
        }
        catch (Exception ex)
        {
            // One faulty subscriber must not stop the cache, or the other subscribers, from seeing changes.
            _logger.SubscriberFailed(ex, Name, resourceEvent.Type, ResourceKeys.For(resourceEvent.Resource));
        }
    }

    private enum WatchOutcome
    {
        /// <summary>Watch again at once from the last resourceVersion (server closed it, or it went silent).</summary>
        Restart,

        /// <summary>The watch went silent: watch again at once from the last resourceVersion.</summary>
        Silent,

        /// <summary>Watch again from the last resourceVersion after a backoff delay.</summary>
        Failed,

        /// <summary>The resourceVersion is gone: list again.</summary>
        Expired,

        /// <summary>The resourceVersion is gone and the watch delivered nothing first: list again after a backoff delay.</summary>
        ExpiredAtOnce,
    }

    private sealed class Subscription(Action unsubscribe) : IDisposable
    {
        private Action? _unsubscribe = unsubscribe;

        public void Dispose() => Interlocked.Exchange(ref _unsubscribe, null)?.Invoke();
    }
}
