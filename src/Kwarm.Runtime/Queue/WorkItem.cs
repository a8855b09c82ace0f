namespace Kwarm.Runtime;

/// <summary>A key handed to a worker; give it back with <see cref="WorkQueue{TKey}.Done"/>.</summary>
public sealed record WorkItem<TKey>(TKey Key);
