namespace Kwarm.Runtime;

/// <summary>What a full relist changed, in the order the informer reports it.</summary>
internal sealed record CacheDiff<T>(IReadOnlyList<T> Deleted, IReadOnlyList<T> Added, IReadOnlyList<(T Current, T Previous)> Updated);
