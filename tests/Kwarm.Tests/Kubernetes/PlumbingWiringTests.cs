using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Tests.Kubernetes;

/// <summary>The registrations the host uses, and the one-way flow watch → cache → queue → reconcile.</summary>
public sealed class PlumbingWiringTests : IAsyncLifetime
{
    private readonly ScriptedApiServer _server = new() { EmptyListWhenUnscripted = true };
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("kwarm-wiring-");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task Every_informer_is_registered_runs_on_start_and_is_ready_once_synced()
    {
        await using var provider = BuildProvider(leaderElect: false);
        var health = provider.GetRequiredService<HealthCheckService>();
        var informerService = provider.GetServices<IHostedService>().OfType<InformerHostedService>().Single();

        var names = provider.GetServices<IResourceInformer>().Select(informer => informer.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["daemonsets", "deployments", "jobs", "namespaces", "nodes", "pods", "prepullimages", "prepullpolicies", "serviceaccounts", "statefulsets"], names);
        Assert.Same(provider.GetRequiredService<ResourceInformer<V1Deployment>>().Cache, provider.GetRequiredService<ResourceCache<V1Deployment>>());
        var before = await ReadinessAsync(health);
        Assert.Equal(HealthStatus.Unhealthy, before.Entries[KwarmHealthChecks.CachesCheck].Status);
        Assert.Equal(
            "caches not synced: daemonsets, deployments, jobs, namespaces, nodes, pods, prepullimages, prepullpolicies, serviceaccounts, statefulsets",
            before.Entries[KwarmHealthChecks.CachesCheck].Description);
        Assert.False(provider.GetRequiredService<LeaderElection>().Enabled);

        await informerService.StartAsync(Token);
        try
        {
            HealthReport? last = null;
            await Eventually.WaitUntilAsync(
                async () => (last = await ReadinessAsync(health)).Entries[KwarmHealthChecks.CachesCheck].Status == HealthStatus.Healthy,
                "every cache synced",
                diagnostics: () => last?.Entries[KwarmHealthChecks.CachesCheck].Description ?? "");
        }
        finally
        {
            await informerService.StopAsync(Token);
        }

        var lists = _server.Requests.Where(request => !request.IsWatch).ToList();
        Assert.Equal(ManagedObjects.Selector, lists.Single(request => request.Path == "/apis/batch/v1/jobs")["labelSelector"]);
        Assert.Equal(ManagedObjects.Selector, lists.Single(request => request.Path == "/api/v1/pods")["labelSelector"]);
        Assert.Null(lists.Single(request => request.Path == "/apis/apps/v1/deployments")["labelSelector"]);
        Assert.Null(lists.Single(request => request.Path == "/apis/apps/v1/statefulsets")["labelSelector"]);
        Assert.Null(lists.Single(request => request.Path == "/apis/apps/v1/daemonsets")["labelSelector"]);
        Assert.Contains(lists, request => request.Path == "/apis/kwarm.io/v1alpha1/prepullimages");
        Assert.Contains(lists, request => request.Path == "/apis/kwarm.io/v1alpha1/prepullpolicies");
        Assert.Contains(lists, request => request.Path == "/api/v1/nodes");
    }

    [Fact]
    public async Task Registering_twice_does_not_run_any_informer_twice()
    {
        var services = Services(leaderElect: false);
        services.AddKwarmKubernetes();
        await using var provider = services.BuildServiceProvider();

        Assert.Equal(10, provider.GetServices<IResourceInformer>().Count());
        Assert.Single(provider.GetServices<IHostedService>().OfType<InformerHostedService>());
        var readiness = await ReadinessAsync(provider.GetRequiredService<HealthCheckService>());
        Assert.Equal([KwarmHealthChecks.CachesCheck, KwarmHealthChecks.LeaderElectionCheck], readiness.Entries.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task With_leader_election_on_the_replica_competes_for_a_lease_under_a_unique_identity()
    {
        await using var provider = BuildProvider(leaderElect: true);

        var election = provider.GetRequiredService<LeaderElection>();

        Assert.True(election.Enabled);
        Assert.Matches("_[0-9a-f]{8}$", election.Identity);
        Assert.False(election.IsLeader);
    }

    [Fact]
    public async Task Watch_events_reach_the_reconcile_through_the_cache_and_the_queue()
    {
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
        _server.ScriptWatch(new ScriptedResponse.Stream(ApiFixtures.Bytes("watch-deployments-stream.jsonl"), StreamEnd.Drop));
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _server.BaseUri.ToString() });
        var informer = new ResourceInformer<V1Deployment>(
            new KubernetesListWatcher<V1Deployment>(client, ResourceKinds.Deployments, KwarmJson.Options),
            new ResourceInformerOptions { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(50) },
            ResourceTrimmers.Deployment,
            TimeProvider.System,
            NullLogger<ResourceInformer<V1Deployment>>.Instance);
        using var stop = new CancellationTokenSource();
        var informing = Task.Run(() => informer.RunAsync(stop.Token), Token);
        await informer.WaitForSyncAsync(Token).WaitAsync(TimeSpan.FromSeconds(10), Token);

        var seen = new ConcurrentQueue<(string Key, string ResourceVersion)>();
        var sawLatest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var controlling = ControllerLoop.RunAsync<string>(
            "test",
            queue => [informer.Subscribe(change => queue.Add(ResourceKeys.For(change.Resource)))],
            (key, _) =>
            {
                var resourceVersion = informer.Cache.Get(key)!.Metadata.ResourceVersion;
                seen.Enqueue((key, resourceVersion));
                if (resourceVersion == "515")
                {
                    sawLatest.TrySetResult();
                }

                return Task.FromResult(ReconcileResult.Done);
            },
            workers: 2,
            new WorkQueueOptions(),
            TimeProvider.System,
            NullLogger.Instance,
            metrics: null,
            stop.Token);

        await sawLatest.Task.WaitAsync(TimeSpan.FromSeconds(10), Token);
        await stop.CancelAsync();
        await Task.WhenAll(informing, controlling).WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.All(seen, reconciled => Assert.Equal("shop/web", reconciled.Key));
        Assert.InRange(seen.Count, 1, 5);
    }

    private static Task<HealthReport> ReadinessAsync(HealthCheckService health) =>
        health.CheckHealthAsync(check => check.Tags.Contains(KwarmHealthChecks.ReadyTag), Token);

    private ServiceProvider BuildProvider(bool leaderElect) =>
        Services(leaderElect).BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

    private ServiceCollection Services(bool leaderElect)
    {
        var kubeconfig = Path.Combine(_directory.FullName, "config");
        File.WriteAllText(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: scripted
              cluster:
                server: {_server.BaseUri}
            users:
            - name: scripted
              user:
                token: abc
            contexts:
            - name: scripted
              context:
                cluster: scripted
                user: scripted
            current-context: scripted
            """);
        var services = new ServiceCollection();
        services.AddLogging();
        services.Configure<KwarmOptions>(options =>
        {
            options.Kubeconfig = kubeconfig;
            options.LeaderElect = leaderElect;
        });
        services.AddKwarmKubernetes(plumbing => plumbing.Informers = plumbing.Informers with
        {
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(50),
        });
        return services;
    }
}
