namespace Kwarm.Warmup;

/// <summary>An image a warming node could not get: its reference and the kubelet's own message.</summary>
public sealed record ImageFailure(string Image, string Message);
