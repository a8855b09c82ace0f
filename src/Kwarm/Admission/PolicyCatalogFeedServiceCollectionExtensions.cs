using Kwarm.Kubernetes;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kwarm.Admission;

public static class PolicyCatalogFeedServiceCollectionExtensions
{
    /// <summary>Feeds the admission policy catalogue from the PrePullPolicy informer of <c>AddKwarmKubernetes</c>.</summary>
    public static IServiceCollection AddPolicyCatalogFeed(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHostedService<PolicyCatalogFeed>();
        return services;
    }
}
