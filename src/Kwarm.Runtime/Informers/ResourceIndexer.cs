namespace Kwarm.Runtime;

/// <summary>
/// A secondary index of a <see cref="ResourceCache{T}"/> (client-go's <c>Indexers</c>): <paramref name="Values"/> gives
/// the index values of one object, and <see cref="ResourceCache{T}.ListByIndex"/> finds every object with a value.
/// <paramref name="Values"/> runs under the cache's lock on every write: keep it quick and free of side effects.
/// </summary>
public sealed record ResourceIndexer<T>(string Name, Func<T, IEnumerable<string>> Values)
    where T : class;
