using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kwarm.Runtime;

/// <summary>
/// Healthy once every registered informer has stored its first complete LIST: a replica whose caches are still filling
/// would answer from an incomplete picture of the cluster. Reads whichever informers are registered, so a new one
/// counts without touching this check; the description names the informers still listing, for a human reading
/// <c>/readyz</c>.
/// </summary>
public sealed class InformersSyncedHealthCheck : IHealthCheck
{
    private readonly IReadOnlyList<IResourceInformer> _informers;

    public InformersSyncedHealthCheck(IEnumerable<IResourceInformer> informers)
    {
        _informers = [.. informers];
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var unsynced = _informers.Where(informer => !informer.HasSynced).Select(informer => informer.Name).Order(StringComparer.Ordinal).ToList();
        return Task.FromResult(unsynced.Count == 0
            ? HealthCheckResult.Healthy($"{_informers.Count} caches synced")
            : HealthCheckResult.Unhealthy($"caches not synced: {string.Join(", ", unsynced)}"));
    }
}
