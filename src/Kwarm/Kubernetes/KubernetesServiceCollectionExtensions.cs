using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;
using Kwarm.Hosting;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kwarm.Kubernetes;

public static class KubernetesServiceCollectionExtensions
{
    /// <summary>The controller runtime's instruments are named <c>kwarm_*</c>, like Kwarm's own (<see cref="RuntimeMetrics"/>).</summary>
    public const string MetricPrefix = "kwarm";

    /// <summary>
    /// Registers the API client (built from <see cref="KwarmOptions"/> by <see cref="KubernetesClientFactory"/>),
    /// one <see cref="ResourceInformer{T}"/> — and its <see cref="ResourceCache{T}"/> — per watched type
    /// (Deployments, StatefulSets, DaemonSets, Nodes, Jobs and Pods labelled <see cref="ManagedObjects.Selector"/>, ServiceAccounts,
    /// Namespaces, PrePullPolicies, PrePullImages), the <see cref="ApiWritePipeline"/>, <see cref="LeaderElection"/>
    /// (a Lease in <see cref="KwarmOptions.Namespace"/> when <see cref="KwarmOptions.LeaderElect"/>), and two hosted
    /// services: <see cref="InformerHostedService"/> (every replica) and <see cref="LeaderElectionHostedService"/>
    /// (runs the registered <see cref="ILeaderOnlyWorker"/>s on the leader), <see cref="CacheMemoryCheck"/> (every replica:
    /// logs the memory the first lists project against the cgroup's limit), and two readiness checks (tagged
    /// <see cref="KwarmHealthChecks.ReadyTag"/>): every informer's cache synced, and the leader election loop running.
    /// Expects <see cref="KwarmOptions"/> to be bound by the host; adds <see cref="TimeProvider.System"/> if absent.
    /// </summary>
    public static IServiceCollection AddKwarmKubernetes(this IServiceCollection services, Action<KubernetesPlumbingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(KubernetesPlumbingOptions)))
        {
            // A second call would run every informer twice.
            return services;
        }

        var plumbing = new KubernetesPlumbingOptions();
        configure?.Invoke(plumbing);
        services.AddOptions<KwarmOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(plumbing);
        services.AddMetrics();
        services.TryAddSingleton(provider => new RuntimeMetrics(provider.GetRequiredService<IMeterFactory>(), MetricPrefix));

        services.TryAddSingleton<KubernetesClientFactory>();
        services.TryAddSingleton(provider => provider.GetRequiredService<KubernetesClientFactory>().CreateClient());
        services.TryAddSingleton<IKubernetes>(provider => provider.GetRequiredService<k8s.Kubernetes>());

        var everything = plumbing.Informers;
        var managed = plumbing.Informers with { LabelSelector = plumbing.ManagedObjectsSelector };
        // The caches that grow with the cluster share one copy of the strings their objects repeat.
        var strings = new CachedStrings();
        services.AddInformer<V1Deployment>(ResourceKinds.Deployments, everything, deployment => ResourceTrimmers.Deployment(deployment, strings));
        services.AddInformer<V1StatefulSet>(ResourceKinds.StatefulSets, everything, statefulSet => ResourceTrimmers.StatefulSet(statefulSet, strings));
        services.AddInformer<V1DaemonSet>(ResourceKinds.DaemonSets, everything, daemonSet => ResourceTrimmers.DaemonSet(daemonSet, strings));
        services.AddInformer<V1Node>(ResourceKinds.Nodes, everything, node => ResourceTrimmers.Node(node, strings));
        services.AddInformer<V1Job>(ResourceKinds.Jobs, managed, ResourceTrimmers.Job);
        services.AddInformer<V1Pod>(ResourceKinds.Pods, managed, ResourceTrimmers.Pod);
        services.AddInformer<V1ServiceAccount>(ResourceKinds.ServiceAccounts, everything, ResourceTrimmers.ServiceAccount);
        services.AddInformer<V1Namespace>(ResourceKinds.Namespaces, everything, ResourceTrimmers.Namespace);
        services.AddInformer<PrePullPolicy>(ResourceKinds.PrePullPolicies, everything, ResourceTrimmers.PrePullPolicy);
        services.AddInformer<PrePullImage>(ResourceKinds.PrePullImages, everything, ResourceTrimmers.PrePullImage);

        services.TryAddSingleton(provider => new ApiWritePipeline(
            plumbing.ApiWrites, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<ApiWritePipeline>>()));

        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<KwarmOptions>>().Value;
            ILock? lease = options.LeaderElect
                ? new LeaseLock(provider.GetRequiredService<IKubernetes>(), options.Namespace, plumbing.LeaderElection.LeaseName, LeaderElectionOptions.NewIdentity())
                : null;
            return new LeaderElection(lease, plumbing.LeaderElection, provider.GetRequiredService<ILogger<LeaderElection>>(), provider.GetRequiredService<RuntimeMetrics>());
        });

        services.AddHostedService<InformerHostedService>();
        services.AddHostedService<LeaderElectionHostedService>();
        services.AddHostedService(provider => new CacheMemoryCheck(
            provider.GetRequiredService<ResourceInformer<V1Node>>(),
            provider.GetRequiredService<ResourceInformer<V1Deployment>>(),
            provider.GetRequiredService<ResourceInformer<V1StatefulSet>>(),
            provider.GetRequiredService<ResourceInformer<V1DaemonSet>>(),
            plumbing.CgroupRoot,
            provider.GetRequiredService<ILogger<CacheMemoryCheck>>()));
        services.AddHealthChecks()
            .AddCheck<InformersSyncedHealthCheck>(KwarmHealthChecks.CachesCheck, tags: [KwarmHealthChecks.ReadyTag])
            .AddCheck<LeaderElectionHealthCheck>(KwarmHealthChecks.LeaderElectionCheck, tags: [KwarmHealthChecks.ReadyTag]);
        return services;
    }

    /// <summary>Registers work that runs only while this replica leads.</summary>
    public static IServiceCollection AddLeaderOnlyWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IServiceCollection services)
        where TWorker : class, ILeaderOnlyWorker
    {
        services.AddSingleton<ILeaderOnlyWorker, TWorker>();
        return services;
    }

    private static void AddInformer<T>(this IServiceCollection services, ResourceKind kind, ResourceInformerOptions options, Func<T, T> trim)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        services.TryAddSingleton(provider => new ResourceInformer<T>(
            new KubernetesListWatcher<T>(
                provider.GetRequiredService<k8s.Kubernetes>(), kind, KwarmJson.Options, options.Namespace, provider.GetRequiredService<ILogger<KubernetesListWatcher<T>>>()),
            options,
            trim,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ResourceInformer<T>>>(),
            indexers: null,
            provider.GetRequiredService<RuntimeMetrics>()));
        services.AddSingleton<IResourceInformer>(provider => provider.GetRequiredService<ResourceInformer<T>>());
        services.TryAddSingleton(provider => provider.GetRequiredService<ResourceInformer<T>>().Cache);
    }
}
