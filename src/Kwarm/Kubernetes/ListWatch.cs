using k8s;
using k8s.Models;

namespace Kwarm.Kubernetes;

/// <summary>One page of a LIST call.</summary>
public sealed record ListRequest(string? LabelSelector, string? FieldSelector, int Limit, string? Continue);

public sealed record ResourceListPage<T>(IReadOnlyList<T> Items, string ResourceVersion, string? Continue);

/// <summary>A WATCH from <paramref name="ResourceVersion"/>; the server ends it after <paramref name="ServerTimeout"/>.</summary>
public sealed record WatchRequest(string? LabelSelector, string? FieldSelector, string ResourceVersion, TimeSpan ServerTimeout);

/// <summary>
/// One line of a watch stream. <see cref="Resource"/> is set for ADDED, MODIFIED, DELETED and BOOKMARK
/// (a bookmark carries only <c>metadata.resourceVersion</c>); <see cref="Status"/> for ERROR.
/// </summary>
public sealed record ResourceWatchEvent<T>(WatchEventType Type, T? Resource, V1Status? Status);

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
