namespace Kwarm.Runtime;

/// <summary>The type-independent face of an informer, for the hosted service that runs them and for readiness.</summary>
public interface IResourceInformer
{
    /// <summary>The resource's plural name, e.g. <c>deployments</c>.</summary>
    string Name { get; }

    /// <summary>True once the first complete LIST has been stored in the cache; stays true afterwards.</summary>
    bool HasSynced { get; }

    Task WaitForSyncAsync(CancellationToken cancellationToken);

    /// <summary>Lists, then watches, until <paramref name="cancellationToken"/> is cancelled.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
