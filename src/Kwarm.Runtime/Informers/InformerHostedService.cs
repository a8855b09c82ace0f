using Microsoft.Extensions.Hosting;

namespace Kwarm.Runtime;

/// <summary>
/// Runs every registered informer until the host stops. Whoever reports readiness reads
/// <see cref="IResourceInformer.HasSynced"/> or awaits <see cref="IResourceInformer.WaitForSyncAsync"/>.
/// </summary>
public sealed class InformerHostedService : BackgroundService
{
    private readonly IReadOnlyList<IResourceInformer> _informers;

    public InformerHostedService(IEnumerable<IResourceInformer> informers)
    {
        _informers = [.. informers];
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_informers.Select(informer => Task.Run(() => informer.RunAsync(stoppingToken), CancellationToken.None)));
}
