using Kwarm.Kubernetes;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kwarm.Admission;

/// <summary>
/// Keeps the webhook's <see cref="IPolicyCatalog"/> equal to the PrePullPolicy informer's cache. Runs on every
/// replica (every replica serves the webhook), unlike the controllers. The informer replays its cache to a new
/// subscriber and turns a relist into adds and deletes, so upserts and removals are all the catalogue needs.
/// </summary>
public sealed class PolicyCatalogFeed(ResourceInformer<PrePullPolicy> informer, IPolicyCatalog catalog) : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription ??= informer.Subscribe(Apply);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => Interlocked.Exchange(ref _subscription, null)?.Dispose();

    private void Apply(ResourceEvent<PrePullPolicy> change)
    {
        if (change.Type == ResourceEventType.Deleted)
        {
            catalog.Remove(change.Resource.Metadata.Name);
        }
        else
        {
            catalog.Upsert(change.Resource);
        }
    }
}
