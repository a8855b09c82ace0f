using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>What one pull attempt needs to become a Job.</summary>
public sealed record PullAttempt(PrePullImage PrePullImage, string Node, int Attempt);
