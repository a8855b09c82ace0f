using System.Globalization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kwarm.Hosting;

/// <summary>
/// The probes (DESIGN §6) as ASP.NET Core health checks. <c>/readyz</c> runs every check tagged <see cref="ReadyTag"/>:
/// the host registers the serving certificate's; the Kubernetes wiring adds the informer caches' and the leader
/// election loop's. <c>/healthz</c> is liveness and runs no check at all: it answers while the process serves
/// requests, so that no dependency (an API server down, a certificate missing) makes the kubelet restart a process
/// that would come back in the same state.
/// </summary>
public static class KwarmHealthChecks
{
    /// <summary>The tag of the checks that <c>/readyz</c> runs.</summary>
    public const string ReadyTag = "ready";

    public const string CertificateCheck = "certificate";
    public const string CachesCheck = "caches";
    public const string LeaderElectionCheck = "leader-election";

    /// <summary>Maps <c>/healthz</c> and <c>/readyz</c> on <paramref name="probes"/>.</summary>
    public static void MapKwarmProbes(this IEndpointRouteBuilder probes)
    {
        ArgumentNullException.ThrowIfNull(probes);
        probes.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        probes.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync });
    }

    /// <summary>
    /// <c>ok</c> when every check passed; otherwise <c>not ready:</c> and each failing check with its reason, sorted,
    /// e.g. <c>not ready: caches (caches not synced: nodes, pods); certificate (no serving certificate loaded)</c>.
    /// </summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        var failing = report.Entries
            .Where(entry => entry.Value.Status != HealthStatus.Healthy)
            .OrderBy(entry => entry.Key, StringComparer.Ordinal)
            .Select(entry => entry.Value.Description is { Length: > 0 } reason ? $"{entry.Key} ({reason})" : entry.Key)
            .ToList();
        var body = failing.Count == 0
            ? "ok\n"
            : string.Create(CultureInfo.InvariantCulture, $"not ready: {string.Join("; ", failing)}\n");
        return context.Response.WriteAsync(body, context.RequestAborted);
    }
}
