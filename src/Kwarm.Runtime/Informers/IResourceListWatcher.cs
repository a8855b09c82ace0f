namespace Kwarm.Runtime;

/// <summary>
/// The two calls an informer needs. Kept behind an interface so that the informer's state machine
/// (list, watch, resume, relist) is independent from how requests reach the API server.
/// </summary>
public interface IResourceListWatcher<T>
{
    ResourceKind Kind { get; }

    /// <exception cref="k8s.Autorest.HttpOperationException">The server answered with an error (for example 410 Expired).</exception>
    Task<ResourceListPage<T>> ListAsync(ListRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Streams events until the server ends the watch. A connection dropped mid-stream surfaces as an
    /// <see cref="IOException"/> or <see cref="HttpRequestException"/>; a truncated line as a <see cref="System.Text.Json.JsonException"/>.
    /// </summary>
    IAsyncEnumerable<ResourceWatchEvent<T>> WatchAsync(WatchRequest request, CancellationToken cancellationToken);
}
