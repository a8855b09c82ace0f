namespace Kwarm.Simulator.Nodes;

/// <summary>What a pull of one reference on one node comes to.</summary>
public sealed record PullResult(bool Succeeded, string Reason, string Message, string Repository, string Digest, long SizeBytes, double SlowFactor)
{
    public int ExitCode { get; init; }

    public string ImageId => $"{Repository}@{Digest}";
}
