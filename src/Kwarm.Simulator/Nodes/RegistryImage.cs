namespace Kwarm.Simulator.Nodes;

/// <summary>One image the simulated registry serves.</summary>
/// <remarks><see cref="ExitCode"/> is what a container of this image exits with when it runs to completion (a crashing job).</remarks>
public sealed record RegistryImage(string Reference, long SizeBytes, string? Digest = null, bool Private = false, IReadOnlyList<string>? Architectures = null, int ExitCode = 0);
