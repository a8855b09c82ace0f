using Kwarm.Hosting;
using Kwarm.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Kwarm.Admission;

/// <summary>How the host wires the webhook: services, the endpoint, and the TLS listener's certificate.</summary>
public static class AdmissionServiceCollectionExtensions
{
    /// <summary>
    /// Registers the policy catalogue (for the PrePullPolicy informer to feed), the reviewer, the endpoint and the
    /// file-based serving certificate (a hosted service that loads and watches <c>--webhook-cert-dir</c>).
    /// Shared singletons (<see cref="KwarmMetrics"/>, <see cref="TimeProvider"/>)
    /// are only added when the host has not registered them already.
    /// </summary>
    public static IServiceCollection AddKwarmAdmission(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(AdmissionEndpoint)))
        {
            // Already added: a second hosted certificate watcher would only duplicate the work and the logs.
            return services;
        }

        services.AddOptions<KwarmOptions>();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KwarmMetrics>();

        services.TryAddSingleton<InMemoryPolicyCatalog>();
        services.TryAddSingleton<IPolicyCatalog>(provider => provider.GetRequiredService<InMemoryPolicyCatalog>());
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<KwarmOptions>>().Value;
            return KwarmIdentity.ForServiceAccount(options.Namespace, options.ServiceAccountName);
        });
        services.TryAddSingleton<AdmissionReviewer>();
        services.TryAddSingleton(provider => new AdmissionBodyBudget(provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<AdmissionEndpoint>();

        services.TryAddSingleton<FileServingCertificateSource>();
        services.TryAddSingleton<IServingCertificateSource>(provider => provider.GetRequiredService<FileServingCertificateSource>());
        services.AddHostedService(provider => provider.GetRequiredService<FileServingCertificateSource>());
        return services;
    }

    /// <summary>
    /// Maps <c>POST /mutate/deployments</c>, <c>/mutate/statefulsets</c>, <c>/mutate/daemonsets</c> and <c>/mutate/nodes</c>
    /// to the one endpoint. Restrict them to the webhook listener with <c>.RequireHost("*:9443")</c>. The nodes path is
    /// served whether or not <c>--taint-new-nodes</c> is set: without it a Node is answered allowed, unchanged, so a webhook
    /// configuration left with the nodes entry never fails a node's registration.
    /// </summary>
    public static IEndpointConventionBuilder MapKwarmAdmission(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var endpoint = endpoints.ServiceProvider.GetRequiredService<AdmissionEndpoint>();
        var group = endpoints.MapGroup("");
        foreach (var (path, kind) in AdmissionEndpoint.Paths)
        {
            group.MapPost(path, endpoint.HandleAsync).WithDisplayName($"Kwarm admission webhook ({kind})");
        }

        group.MapPost(AdmissionEndpoint.NodesPath, endpoint.HandleAsync).WithDisplayName("Kwarm admission webhook (Node)");

        return group;
    }

    /// <summary>
    /// TLS on a Kestrel listener with the certificate the source holds at each handshake, so a rotated
    /// certificate is served to new connections without a restart.
    /// </summary>
    public static ListenOptions UseServingCertificate(this ListenOptions listen, IServingCertificateSource source)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(source);
        return listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => source.Current);
    }
}
