namespace Kwarm.Runtime;

/// <summary>A WATCH from <paramref name="ResourceVersion"/>; the server ends it after <paramref name="ServerTimeout"/>.</summary>
public sealed record WatchRequest(string? LabelSelector, string? FieldSelector, string ResourceVersion, TimeSpan ServerTimeout);
