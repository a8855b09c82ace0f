namespace Kwarm.Runtime;

/// <summary>One page of a LIST answer; <paramref name="Continue"/> is null on the last page.</summary>
public sealed record ResourceListPage<T>(IReadOnlyList<T> Items, string ResourceVersion, string? Continue);
