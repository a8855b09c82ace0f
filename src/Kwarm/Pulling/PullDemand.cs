
namespace Kwarm.Pulling;

/// <summary>One PrePullImage's attempts that are ready to start, oldest PrePullImage first.</summary>
public sealed record PullDemand(string Key, DateTime CreatedAt, IReadOnlyList<PullAttempt> Attempts);
