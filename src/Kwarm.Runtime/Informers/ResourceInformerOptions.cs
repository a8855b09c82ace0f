namespace Kwarm.Runtime;

/// <summary>How one informer lists and watches. Defaults follow client-go's reflector.</summary>
public sealed record ResourceInformerOptions
{
    /// <summary>
    /// Only objects in this namespace (namespaced types); null for all namespaces. The namespace is part of the
    /// request path, so it is given to the <see cref="KubernetesListWatcher{T}"/>; the application's wiring does that.
    /// </summary>
    public string? Namespace { get; init; }

    public string? LabelSelector { get; init; }

    public string? FieldSelector { get; init; }

    /// <summary>LIST page size (<c>limit</c>); paging keeps each response, and the API server's work, bounded.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Asked of the server as <c>timeoutSeconds</c>, stretched by a random 0–100 % so replicas do not reconnect together.</summary>
    public TimeSpan ServerWatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A watch that delivers nothing (not even a bookmark, which API servers send about once a minute) for this
    /// long is presumed dead — a half-open TCP connection never errors — and is restarted from the last resourceVersion.
    /// </summary>
    public TimeSpan WatchSilenceLimit { get; init; } = TimeSpan.FromMinutes(3);

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(800);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
}
