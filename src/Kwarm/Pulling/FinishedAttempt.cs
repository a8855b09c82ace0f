
namespace Kwarm.Pulling;

/// <summary>A finished attempt, for <c>kwarm_pulls_total</c> and <c>kwarm_pull_duration_seconds</c>.</summary>
public sealed record FinishedAttempt(string Node, int Attempt, string Result, TimeSpan? Duration);
