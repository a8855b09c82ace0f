using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kwarm.Holds;

public static class HoldServiceCollectionExtensions
{
    /// <summary>
    /// Registers the hold controller and the PrePullPolicy status controller as leader-only workers, with their
    /// API writer. Needs <c>AddKwarmKubernetes()</c> (informers, client, write pipeline, election); adds
    /// <see cref="KwarmMetrics"/> when the host has not.
    /// </summary>
    public static IServiceCollection AddKwarmHolds(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(HoldReconciler)))
        {
            return services;
        }

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KwarmMetrics>();
        services.TryAddSingleton<IHoldApi>(provider => new KubernetesHoldApi(
            provider.GetRequiredService<IKubernetes>(), provider.GetRequiredService<ApiWritePipeline>()));
        services.AddSingleton(provider => new HoldControllerContext(
            provider.GetRequiredService<ResourceCache<V1Deployment>>(),
            provider.GetRequiredService<ResourceCache<V1StatefulSet>>(),
            provider.GetRequiredService<ResourceCache<V1DaemonSet>>(),
            provider.GetRequiredService<ResourceCache<PrePullImage>>(),
            provider.GetRequiredService<ResourceCache<PrePullPolicy>>(),
            provider.GetRequiredService<ResourceCache<V1ServiceAccount>>(),
            Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName));
        services.AddSingleton<HoldReconciler>();
        services.AddLeaderOnlyWorker<HoldController>();
        services.AddLeaderOnlyWorker<PolicyStatusController>();
        return services;
    }
}
