namespace Kwarm.Runtime;

/// <summary>A change seen by an informer, after the cache has applied it. <see cref="Previous"/> is set for updates.</summary>
public sealed record ResourceEvent<T>(ResourceEventType Type, T Resource, T? Previous = null)
    where T : class;
