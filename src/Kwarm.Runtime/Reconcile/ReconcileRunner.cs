using Microsoft.Extensions.Logging;

namespace Kwarm.Runtime;

/// <summary>
/// Drives N workers over a <see cref="WorkQueue{TKey}"/>, each calling the reconcile delegate for one key at a time.
/// Success forgets the key's failures (and honours <see cref="ReconcileResult.RequeueAfter"/>); an exception —
/// including <see cref="ApiConflictException"/>, which means "re-read and try again" — requeues the key with
/// backoff. When the token is cancelled (shutdown, or leadership lost) no new key is started, reconciles in
/// flight see the cancelled token, and <see cref="RunAsync"/> returns once they have all finished.
/// </summary>
public sealed class ReconcileRunner<TKey>
    where TKey : notnull
{
    private readonly WorkQueue<TKey> _queue;
    private readonly Func<TKey, CancellationToken, Task<ReconcileResult>> _reconcile;
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly RuntimeMetrics? _metrics;
    private readonly TimeProvider _timeProvider;

    /// <param name="metrics">Where to count reconciles by result and time them; null reports nothing.</param>
    /// <param name="timeProvider">The clock reconciles are timed on; <see cref="TimeProvider.System"/> when null.</param>
    public ReconcileRunner(
        string name,
        WorkQueue<TKey> queue,
        Func<TKey, CancellationToken, Task<ReconcileResult>> reconcile,
        ILogger logger,
        RuntimeMetrics? metrics = null,
        TimeProvider? timeProvider = null)
    {
        _name = name;
        _queue = queue;
        _reconcile = reconcile;
        _logger = logger;
        _metrics = metrics;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics?.AddController(name);
    }

    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var running = Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        finally
        {
            await _queue.ShutDownAsync().ConfigureAwait(false);
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            WorkItem<TKey>? item;
            try
            {
                item = await _queue.GetAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            if (item is null)
            {
                return;
            }

            var key = item.Key;
            var started = _timeProvider.GetTimestamp();
            try
            {
                var result = await _reconcile(key, cancellationToken).ConfigureAwait(false);
                _queue.Forget(key);
                if (result.RequeueAfter is { } delay)
                {
                    _queue.AddAfter(key, delay);
                }

                Report(result.RequeueAfter is null ? RuntimeMetrics.ReconcileResults.Success : RuntimeMetrics.ReconcileResults.Requeue, started);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the next leader rebuilds this key's state from the API.
            }
            catch (ApiConflictException conflict)
            {
                // Routine under concurrency: someone else wrote first. Re-read and decide again, a little later.
                _queue.AddRateLimited(key);
                Report(RuntimeMetrics.ReconcileResults.Requeue, started);
                _logger.ReconcileConflict(conflict, _name, key);
            }
            catch (Exception ex)
            {
                _queue.AddRateLimited(key);
                Report(RuntimeMetrics.ReconcileResults.Error, started);
                _logger.ReconcileFailed(ApiErrors.IsTransient(ex) ? null : ex, _name, key.ToString(), _queue.NumRequeues(key), ApiErrors.Describe(ex));
            }
            finally
            {
                _queue.Done(key);
            }
        }
    }

    private void Report(string result, long started) => _metrics?.Reconciled(_name, result, _timeProvider.GetElapsedTime(started));
}
