using k8s;
using k8s.Models;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kwarm.Warmup;

public static class WarmupServiceCollectionExtensions
{
    /// <summary>
    /// Registers the node warm-up (<see cref="NodeWarmupController"/>) as a leader-only worker with its API writer. Needs
    /// <c>AddKwarmKubernetes()</c>; adds <see cref="KwarmMetrics"/> when the host has not.
    /// </summary>
    public static IServiceCollection AddKwarmWarmup(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(NodeWarmupReconciler)))
        {
            return services;
        }

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KwarmMetrics>();
        services.TryAddSingleton<IWarmupApi>(provider => new KubernetesWarmupApi(
            provider.GetRequiredService<IKubernetes>(), provider.GetRequiredService<ApiWritePipeline>()));
        services.AddSingleton(provider => new WarmupSources(
            provider.GetRequiredService<ResourceCache<V1Node>>(),
            provider.GetRequiredService<ResourceCache<PrePullPolicy>>(),
            provider.GetRequiredService<ResourceCache<V1Deployment>>(),
            provider.GetRequiredService<ResourceCache<V1StatefulSet>>(),
            provider.GetRequiredService<ResourceCache<V1DaemonSet>>(),
            provider.GetRequiredService<ResourceCache<PrePullImage>>(),
            provider.GetRequiredService<ResourceCache<V1ServiceAccount>>()));
        services.AddSingleton(provider => new NodeWarmupReconciler(
            provider.GetRequiredService<WarmupSources>(),
            provider.GetRequiredService<IWarmupApi>(),
            provider.GetRequiredService<KwarmMetrics>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<NodeWarmupReconciler>>(),
            provider.GetRequiredService<IOptions<KwarmOptions>>().Value.Namespace,
            Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName));
        services.AddLeaderOnlyWorker<NodeWarmupController>();
        return services;
    }
}
