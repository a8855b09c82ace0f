using System.Collections.Concurrent;

namespace Kwarm.Simulator.Api;

/// <summary>Counts every resource request the API server answered, by <see cref="AuditedRequest"/>.</summary>
public sealed class RequestAudit
{
    private readonly ConcurrentDictionary<AuditedRequest, long> _counts = new();

    public void Record(AuditedRequest request) => _counts.AddOrUpdate(request, 1, (_, count) => count + 1);

    /// <summary>A copy of the counts so far.</summary>
    public IReadOnlyDictionary<AuditedRequest, long> Snapshot() => new Dictionary<AuditedRequest, long>(_counts);

    public void Clear() => _counts.Clear();

    /// <summary>The RBAC verb of an HTTP request on a resource path (Kubernetes' request-info rules).</summary>
    public static string VerbOf(string method, bool hasName, bool watch) => (method, hasName, watch) switch
    {
        ("GET", false, true) => "watch",
        ("GET", false, false) => "list",
        ("GET", true, _) => "get",
        ("POST", _, _) => "create",
        ("PUT", _, _) => "update",
        ("PATCH", _, _) => "patch",
        ("DELETE", true, _) => "delete",
        ("DELETE", false, _) => "deletecollection",
        _ => method.ToLowerInvariant(),
    };
}
