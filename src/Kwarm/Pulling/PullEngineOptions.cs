namespace Kwarm.Pulling;

/// <summary>Settings of one pull engine, from the host's flags.</summary>
public sealed record PullEngineOptions(int MaxConcurrentPulls, int MaxPullsPerNode, string ToolsImage, TimeSpan FinishedPrePullImageTtl)
{
    /// <summary>Pull Jobs created at once by one scheduling pass.</summary>
    public int CreateParallelism { get; init; } = 8;
}
