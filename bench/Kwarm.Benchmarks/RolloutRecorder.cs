using System.Collections.Concurrent;
using System.Globalization;
using Kwarm.Resources;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Benchmarks;

/// <summary>One committed version of the benchmark's Deployment, stamped with the simulator's own write time.</summary>
internal sealed record DeploymentCommit(
    DateTimeOffset At, long Generation, bool Paused, string? Hold, string? Released, string Image,
    long ObservedGeneration, long Replicas, long StatusReplicas, long Updated, long Available);

/// <summary>One committed version of a PrePullImage made for a hold (hold ids are unique, so the hold label tells whose).</summary>
internal sealed record PrePullImageCommit(DateTimeOffset At, string Name, string Hold, string? Phase);

/// <summary>One committed version of one of the Deployment's pods. <see cref="Gone"/>: the pod was deleted from the store.</summary>
internal sealed record PodCommit(DateTimeOffset At, string Uid, string TemplateHash, bool Ready, bool Gone);

/// <summary>
/// Listens to the simulator's store (synchronously, in commit order) for one Deployment and its pods, so every change
/// is timed when the API server wrote it, not when a client got round to seeing it.
/// </summary>
internal sealed class RolloutRecorder
{
    private readonly ConcurrentQueue<DeploymentCommit> _deployments = new();
    private readonly ConcurrentQueue<PodCommit> _pods = new();
    private readonly ConcurrentQueue<PrePullImageCommit> _prePullImages = new();
    private readonly string _namespace;
    private readonly string _name;
    private readonly TimeProvider _time;
    private DeploymentCommit? _latest;

    public RolloutRecorder(SimulatedCluster cluster, string ns, string name)
    {
        _namespace = ns;
        _name = name;
        _time = cluster.Options.Time;
        cluster.Store.Subscribe(OnCommit);
    }

    public DeploymentCommit? Latest => Volatile.Read(ref _latest);

    public IReadOnlyList<DeploymentCommit> Deployments => [.. _deployments];

    public IReadOnlyList<PodCommit> Pods => [.. _pods];

    public IReadOnlyList<PrePullImageCommit> PrePullImages => [.. _prePullImages];

    /// <summary>Runs under the store's lock: only reads the committed object and enqueues.</summary>
    private void OnCommit(StoreEvent change)
    {
        var stored = change.Object;
        if (stored.Namespace != _namespace)
        {
            return;
        }

        if (stored.Type.Plural == "deployments" && stored.Name == _name)
        {
            var commit = ToCommit(_time.GetUtcNow(), stored);
            _deployments.Enqueue(commit);
            Volatile.Write(ref _latest, commit);
        }
        else if (stored.Type.Plural == "pods" && stored.Labels.TryGetValue(BenchmarkDeployment.AppLabel, out var app) && app == _name)
        {
            _pods.Enqueue(new PodCommit(
                _time.GetUtcNow(), stored.Uid, stored.Labels.GetValueOrDefault("pod-template-hash") ?? "",
                stored.Ready && !stored.Deleting, change.Type == WatchEventType.Deleted));
        }
        else if (stored.Type.Plural == "prepullimages" && stored.Labels.TryGetValue(KwarmApi.HoldLabel, out var hold))
        {
            _prePullImages.Enqueue(new PrePullImageCommit(_time.GetUtcNow(), stored.Name, hold, stored.ToNode()["status"]?["phase"]?.GetValue<string>()));
        }
    }

    private static DeploymentCommit ToCommit(DateTimeOffset at, StoredObject stored)
    {
        var deployment = stored.ToNode();
        var annotations = deployment["metadata"]?["annotations"];
        var spec = deployment["spec"];
        var status = deployment["status"];
        return new DeploymentCommit(
            at,
            Number(deployment["metadata"]?["generation"]),
            spec?["paused"]?.GetValue<bool>() == true,
            annotations?[KwarmApi.HoldAnnotation]?.GetValue<string>(),
            annotations?[KwarmApi.ReleasedAnnotation]?.GetValue<string>(),
            spec?["template"]?["spec"]?["containers"]?[0]?["image"]?.GetValue<string>() ?? "",
            Number(status?["observedGeneration"]),
            Number(spec?["replicas"]),
            Number(status?["replicas"]),
            Number(status?["updatedReplicas"]),
            Number(status?["availableReplicas"]));
    }

    private static long Number(System.Text.Json.Nodes.JsonNode? node) =>
        node is null ? 0 : long.Parse(node.ToJsonString(), CultureInfo.InvariantCulture);
}
