using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Pulling;
using Kwarm.Resources;
using Kwarm.Simulator.Api;
using StoreChange = Kwarm.Simulator.Api.WatchEventType;
using Kwarm.Simulator.Hosting;
using Kwarm.Tests.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kwarm.Tests.Pulling;

/// <summary>
/// A simulated cluster (Kwarm.Simulator) with Kwarm's CRDs installed, and the pull engine running against it through
/// the real plumbing (informers over HTTPS, leader-only worker); the engine can be stopped and started again to
/// act out a restart. Also measures the concurrency of pull pods as the cluster sees them.
/// </summary>
internal sealed class PullingOnSimulator : IAsyncDisposable
{
    public const string Namespace = "shop";
    public const string ToolsImage = "registry.local/kwarm/tools:1";

    private readonly ConcurrentDictionary<string, (string Node, bool Active)> _pods = new(StringComparer.Ordinal);
    private readonly Lock _measure = new();
    private ServiceProvider? _kwarm;
    private List<IHostedService> _hosted = [];

    private PullingOnSimulator(SimulatedCluster cluster, IKubernetes client)
    {
        Cluster = cluster;
        Client = client;
    }

    public SimulatedCluster Cluster { get; }

    public IKubernetes Client { get; }

    public int MaxActivePods { get; private set; }

    public int MaxActivePodsPerNode { get; private set; }

    /// <summary>Every distinct per-node error a PrePullImage status carried.</summary>
    public ConcurrentDictionary<string, int> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>When each pull Job was created (seen by the store), by PrePullImage and node.</summary>
    public ConcurrentQueue<(string Image, string Node, int Attempt, DateTimeOffset At)> JobsCreated { get; } = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static async Task<PullingOnSimulator> StartAsync(int nodes, double timeFactor = 0.01)
    {
        var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { Nodes = nodes, TimeFactor = timeFactor, RecordEvents = false }, Token);
        var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));
        var running = new PullingOnSimulator(cluster, client);
        cluster.Store.Subscribe(running.Observe);
        foreach (var path in new[] { RepositoryFiles.PrePullPolicyCrd, RepositoryFiles.PrePullImageCrd })
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(path, Token));
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: Token);
        }

        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: Token);
        return running;
    }

    /// <summary>Starts Kwarm's plumbing and the pull engine (a new process, as far as the cluster can tell).</summary>
    public async Task StartKwarmAsync(int maxConcurrentPulls = 10, int maxPullsPerNode = 2)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.Configure<KwarmOptions>(options =>
        {
            options.Kubeconfig = Cluster.KubeconfigPath;
            options.LeaderElect = false;
            options.MaxConcurrentPulls = maxConcurrentPulls;
            options.MaxPullsPerNode = maxPullsPerNode;
            options.ToolsImage = ToolsImage;
        });
        services.AddKwarmKubernetes();
        services.AddMetrics();
        services.AddSingleton<KwarmMetrics>();
        services.AddKwarmPulling();
        _kwarm = services.BuildServiceProvider();
        _hosted = [.. _kwarm.GetServices<IHostedService>()];
        foreach (var hosted in _hosted)
        {
            await hosted.StartAsync(Token);
        }
    }

    public async Task StopKwarmAsync()
    {
        foreach (var hosted in Enumerable.Reverse(_hosted))
        {
            await hosted.StopAsync(CancellationToken.None);
        }

        _hosted = [];
        if (_kwarm is not null)
        {
            await _kwarm.DisposeAsync();
            _kwarm = null;
        }

        // A stopped leader's create requests already on the wire still land, as after a real crash. A new leader only
        // starts after the old one's lease expired (seconds later), so by then they are in its first list: wait them out.
        for (var seen = JobsCreated.Count; ; seen = JobsCreated.Count)
        {
            await Task.Delay(500, Token);
            if (JobsCreated.Count == seen)
            {
                return;
            }
        }
    }

    public async Task CreateAsync(PrePullImage image)
    {
        image.Metadata.NamespaceProperty ??= Namespace;
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(
            image, PrePullImage.KubeGroup, PrePullImage.KubeVersion, image.Metadata.NamespaceProperty, PrePullImage.KubePluralName, cancellationToken: Token);
    }

    public async Task<PrePullImage> GetAsync(string name)
    {
        var found = await Client.CustomObjects.GetNamespacedCustomObjectAsync(
            PrePullImage.KubeGroup, PrePullImage.KubeVersion, Namespace, PrePullImage.KubePluralName, name, cancellationToken: Token);
        return KubernetesJson.Deserialize<PrePullImage>(KubernetesJson.Serialize(found));
    }

    public async Task CreatePullSecretAsync(string name, string registry)
    {
        var config = JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [registry] = new { auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass")) } } });
        await Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
                Type = "kubernetes.io/dockerconfigjson",
                Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = Encoding.UTF8.GetBytes(config) },
            },
            Namespace,
            cancellationToken: Token);
    }

    /// <summary>Waits (polling the API, at most <paramref name="limit"/>) until every named PrePullImage is finished.</summary>
    public async Task<IReadOnlyList<PrePullImage>> WaitFinishedAsync(TimeSpan limit, params string[] names)
    {
        var deadline = DateTimeOffset.UtcNow + limit;
        while (true)
        {
            var images = new List<PrePullImage>();
            foreach (var name in names)
            {
                images.Add(await GetAsync(name));
            }

            if (images.All(image => image.Status?.Phase is PrePullImagePhase.Completed or PrePullImagePhase.Failed))
            {
                return images;
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                var pods = await Client.CoreV1.ListNamespacedPodAsync(Namespace, cancellationToken: Token);
                var jobs = await Client.BatchV1.ListNamespacedJobAsync(Namespace, cancellationToken: Token);
                Assert.Fail("not finished in time: " + string.Join(", ", images.Select(image => $"{image.Metadata.Name}={image.Status?.Phase} {image.Status?.Summary}"))
                    + "\nJOBS " + KubernetesJson.Serialize(jobs.Items.Select(job => new { job.Metadata.Name, job.Metadata.Labels, job.Status }))
                    + "\nPODS " + KubernetesJson.Serialize(pods.Items.Select(pod => new { pod.Metadata.Name, pod.Metadata.Labels, pod.Metadata.OwnerReferences, pod.Status })));
            }

            await Task.Delay(50, Token);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, Func<string> what)
    {
        var deadline = DateTimeOffset.UtcNow + limit;
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow >= deadline)
            {
                Assert.Fail(what());
            }

            await Task.Delay(50, Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopKwarmAsync();
        Client.Dispose();
        await Cluster.DisposeAsync();
    }

    /// <summary>
    /// Pull pods that exist and have not finished, as the store commits them: that is the cluster's own view of
    /// concurrent pulls, independent of what Kwarm believes.
    /// </summary>
    private void Observe(StoreEvent change)
    {
        var stored = change.Object;
        if (stored.Type.StorageKey == "jobs.batch" && change.Type == StoreChange.Added && stored.Labels.TryGetValue(ManagedObjects.Label, out var managed) && managed == ManagedObjects.Value)
        {
            var job = KubernetesJson.Deserialize<V1Job>(Encoding.UTF8.GetString(stored.Json));
            var annotations = job.Metadata.Annotations;
            JobsCreated.Enqueue((annotations[PullObjectNames.PrePullImageAnnotation], annotations[PullObjectNames.NodeAnnotation], int.Parse(annotations[PullObjectNames.AttemptAnnotation], System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow));
        }

        if (stored.Type.StorageKey == "prepullimages.kwarm.io" && change.Type != StoreChange.Deleted)
        {
            var image = KubernetesJson.Deserialize<PrePullImage>(Encoding.UTF8.GetString(stored.Json));
            foreach (var entry in image.Status?.Nodes ?? [])
            {
                if (entry.Error is { } error)
                {
                    Errors.AddOrUpdate(error, 1, (_, count) => count + 1);
                }
            }
        }

        if (stored.Type.StorageKey != "pods" || !stored.Labels.ContainsKey(PullObjectNames.PrePullImageLabel))
        {
            return;
        }

        lock (_measure)
        {
            var key = stored.Namespace + "/" + stored.Name;
            // A pod is pulling from its creation until its pull container reports an imageID (DESIGN §5: that is when the
            // attempt succeeds and Kwarm frees the slot) or it ends; the moment noop then runs is not a pull.
            if (change.Type == StoreChange.Deleted || stored.Phase is "Succeeded" or "Failed" || HasPulled(stored))
            {
                _pods.TryRemove(key, out _);
            }
            else
            {
                _pods[key] = (stored.NodeName ?? "", true);
            }

            MaxActivePods = Math.Max(MaxActivePods, _pods.Count);
            var perNode = _pods.Values.Where(pod => pod.Node.Length > 0).GroupBy(pod => pod.Node).Select(group => group.Count()).DefaultIfEmpty(0).Max();
            MaxActivePodsPerNode = Math.Max(MaxActivePodsPerNode, perNode);
        }
    }

    private static bool HasPulled(StoredObject pod)
    {
        var status = KubernetesJson.Deserialize<V1Pod>(Encoding.UTF8.GetString(pod.Json)).Status;
        return status?.ContainerStatuses?.Any(container =>
            container.Name == PullJobTemplate.PullContainer && !string.IsNullOrEmpty(container.ImageID)) == true;
    }
}
