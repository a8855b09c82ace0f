using Kwarm.Hosting;
using Microsoft.Extensions.Hosting;

namespace Kwarm.Kubernetes;

/// <summary>Opens one readiness gate per informer, named <c>cache:&lt;plural&gt;</c>, once its first list is stored.</summary>
public sealed class CacheReadinessGates : BackgroundService
{
    public const string GatePrefix = "cache:";

    private readonly IReadOnlyList<IResourceInformer> _informers;
    private readonly ReadinessGates _gates;

    public CacheReadinessGates(IEnumerable<IResourceInformer> informers, ReadinessGates gates)
    {
        _informers = [.. informers];
        _gates = gates;
        foreach (var informer in _informers)
        {
            _gates.Register(GatePrefix + informer.Name);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_informers.Select(informer => OpenGateWhenSyncedAsync(informer, stoppingToken)));

    private async Task OpenGateWhenSyncedAsync(IResourceInformer informer, CancellationToken stoppingToken)
    {
        try
        {
            await informer.WaitForSyncAsync(stoppingToken).ConfigureAwait(false);
            _gates.Open(GatePrefix + informer.Name);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
