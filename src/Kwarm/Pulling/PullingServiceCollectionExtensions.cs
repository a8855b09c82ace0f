using Kwarm.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kwarm.Pulling;

public static class PullingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pull engine (<see cref="PullController"/>) as a leader-only worker and its API writes
    /// (<see cref="KubernetesPullApi"/>). Needs <c>AddKwarmKubernetes()</c> and <c>AddKwarmMetrics()</c>.
    /// </summary>
    public static IServiceCollection AddKwarmPulling(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ImplementationType == typeof(PullController)))
        {
            return services;
        }

        services.TryAddSingleton<IPullApi, KubernetesPullApi>();
        services.AddLeaderOnlyWorker<PullController>();
        return services;
    }
}
