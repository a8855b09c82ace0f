namespace Kwarm.Runtime;

/// <summary>One page of a LIST call.</summary>
public sealed record ListRequest(string? LabelSelector, string? FieldSelector, int Limit, string? Continue);
