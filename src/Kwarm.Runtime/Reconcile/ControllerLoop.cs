using Microsoft.Extensions.Logging;

namespace Kwarm.Runtime;

/// <summary>
/// One leadership term of a controller: a fresh <see cref="WorkQueue{TKey}"/>, fed by informer subscriptions
/// (which replay the caches, so every existing object is looked at once), drained by N workers until the term
/// ends. Typical use inside <see cref="ILeaderOnlyWorker.RunAsync"/>:
/// <code>
/// return ControllerLoop.RunAsync&lt;string&gt;("widgets",
///     queue => [deployments.Subscribe(e => queue.Add(ResourceKeys.For(e.Resource)))],
///     ReconcileAsync, workers: 4, new WorkQueueOptions(), timeProvider, logger, metrics, leadership);
/// </code>
/// </summary>
public static class ControllerLoop
{
    public static async Task RunAsync<TKey>(
        string name,
        Func<WorkQueue<TKey>, IEnumerable<IDisposable>> subscribe,
        Func<TKey, CancellationToken, Task<ReconcileResult>> reconcile,
        int workers,
        WorkQueueOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        RuntimeMetrics? metrics,
        CancellationToken cancellationToken)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(subscribe);
        using var queue = new WorkQueue<TKey>(options, timeProvider, name, metrics);
        var subscriptions = subscribe(queue).ToList();
        try
        {
            await new ReconcileRunner<TKey>(name, queue, reconcile, logger, metrics, timeProvider).RunAsync(workers, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var subscription in subscriptions)
            {
                subscription.Dispose();
            }
        }
    }
}
