namespace Kwarm.Simulator.Api;

/// <summary>
/// One kind of API call, in RBAC's terms: who, which verb on which resource (and subresource), in which namespace
/// (empty for cluster-scoped resources and cluster-wide lists). Kwarm's tests compare these with the ClusterRole,
/// and the benchmarks count them per hold.
/// </summary>
public sealed record AuditedRequest(string User, string Verb, string Group, string Resource, string? Subresource, string Namespace);
