using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Controllers;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>The kubelet seen through its one seam to the cluster (<see cref="IKubeletApi"/>).</summary>
public sealed class KubeletApiTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_pod_deleted_gracefully_has_its_containers_stopped_and_its_deletion_confirmed_with_its_uid()
    {
        // API server only: the kubelet under test is the one driving node "solo".
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { RunControllers = false, TimeFactor = 0.01 });
        var api = new RecordingKubeletApi(new InProcessKubeletApi(Context(cluster), cluster.Cluster.Server));
        await using var kubelet = RunningKubelet(cluster, api, new SimulatorOptions { TimeFactor = 0.01, CommandRunTime = TimeSpan.FromHours(1) });
        await kubelet.Kubelet.AddNodesAsync([new NodeSpec("solo")], Token);
        var commits = new ConcurrentQueue<(bool Gone, long? Grace)>();
        cluster.Cluster.Store.Subscribe(change =>
        {
            if (change.Object.Type.Plural == "pods" && change.Object.Name == "held")
            {
                commits.Enqueue((change.Type == WatchEventType.Deleted, change.Object.ToNode().Long("metadata", "deletionGracePeriodSeconds")));
            }
        });

        // A run-once pod whose container runs for an hour (36 s of real time).
        var uid = (await cluster.CreateAsync("/api/v1/namespaces/default/pods", ControllerTests.Pod("held", JsonNode.Parse("""{"nodeName":"solo","restartPolicy":"Never"}""")))).Str("metadata", "uid");
        // Ready is the kubelet's last write until the container exits (36 s away at this time factor).
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "default", "held") is { } pod && PodStatus.IsReady(pod), "the pod ready");

        var writes = api.PodStatusWrites;
        await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/held");
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "default", "held") is null, "the pod gone");
        Assert.Equal([("default", "held", uid!)], api.Deletions);
        Assert.Equal([(false, 30L), (false, 0L), (true, 0L)], commits.Where(c => c.Grace is not null));
        Assert.Equal(writes, api.PodStatusWrites);
        Assert.Contains(cluster.List("", "events", "default"), e => e.Str("reason") == "Killing" && e.Str("message") == "Stopping container main");
        Assert.Empty(kubelet.Errors);
    }

    [Fact]
    public async Task Without_Leases_a_node_posts_its_Ready_condition_on_every_heartbeat()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { RunControllers = false });
        var api = new RecordingKubeletApi(new InProcessKubeletApi(Context(cluster), cluster.Cluster.Server));
        await using var kubelet = RunningKubelet(cluster, api, new SimulatorOptions { NodeHeartbeat = TimeSpan.FromMilliseconds(50) }, leases: false);
        await kubelet.Kubelet.AddNodesAsync([new NodeSpec("leaseless")], Token);
        string? Heartbeat() => cluster.Get("", "nodes", "", "leaseless")!.Objects("status", "conditions").Single(c => c.Str("type") == "Ready").Str("lastHeartbeatTime");
        var first = Heartbeat();
        await Eventually.WaitUntilAsync(() => Heartbeat() != first, "a later heartbeat time");
        Assert.Null(cluster.Get("coordination.k8s.io", "leases", "kube-node-lease", "leaseless"));
        Assert.Empty(kubelet.Errors);
    }

    private static SimulationContext Context(TestCluster cluster) =>
        new(cluster.Cluster.Store, cluster.Cluster.Catalog, cluster.Cluster.Options, cluster.Cluster.Registry);

    private static KubeletUnderTest RunningKubelet(TestCluster cluster, IKubeletApi api, SimulatorOptions options, bool leases = true)
    {
        var errors = new ConcurrentQueue<string>();
        var kubelet = new Kubelet(api, new KubeletSettings
        {
            Options = options,
            Registry = cluster.Cluster.Registry,
            NodeLeases = leases,
            ReportError = (key, error) => errors.Enqueue($"{key}: {error.Message}"),
        });
        return new KubeletUnderTest(kubelet, errors);
    }

    private sealed class KubeletUnderTest : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public KubeletUnderTest(Kubelet kubelet, ConcurrentQueue<string> errors)
        {
            Kubelet = kubelet;
            Errors = errors;
            _loop = kubelet.RunAsync(_stop.Token);
        }

        public Kubelet Kubelet { get; }

        public ConcurrentQueue<string> Errors { get; }

        public async ValueTask DisposeAsync()
        {
            await Kubelet.StopAsync();
            await _stop.CancelAsync();
            await _loop;
            Kubelet.Dispose();
            _stop.Dispose();
        }
    }

    /// <summary>A hand-written decorator that counts pod status writes and records deletion confirmations.</summary>
    private sealed class RecordingKubeletApi(IKubeletApi inner) : IKubeletApi
    {
        private int _podStatusWrites;

        public ConcurrentBag<(string Namespace, string Name, string Uid)> Deletions { get; } = [];

        public int PodStatusWrites => Volatile.Read(ref _podStatusWrites);

        public Task<JsonObject> RegisterNodeAsync(JsonObject node, CancellationToken cancellationToken) => inner.RegisterNodeAsync(node, cancellationToken);

        public Task UpdateNodeAsync(string name, Func<JsonObject, bool> change, CancellationToken cancellationToken) => inner.UpdateNodeAsync(name, change, cancellationToken);

        public Task RenewLeaseAsync(string node, string nodeUid, string renewTime, int durationSeconds, CancellationToken cancellationToken) =>
            inner.RenewLeaseAsync(node, nodeUid, renewTime, durationSeconds, cancellationToken);

        public IAsyncDisposable WatchPods(string node, Action<PodChange> onChange) => inner.WatchPods(node, onChange);

        public Task<JsonObject?> GetPodAsync(string podNamespace, string name, CancellationToken cancellationToken) => inner.GetPodAsync(podNamespace, name, cancellationToken);

        public Task<IReadOnlyList<JsonObject>> ListPodsAsync(string node, CancellationToken cancellationToken) => inner.ListPodsAsync(node, cancellationToken);

        public Task UpdatePodStatusAsync(string podNamespace, string name, Func<JsonObject, bool> change, CancellationToken cancellationToken) =>
            inner.UpdatePodStatusAsync(podNamespace, name, pod =>
            {
                var changed = change(pod);
                if (changed)
                {
                    Interlocked.Increment(ref _podStatusWrites);
                }

                return changed;
            }, cancellationToken);

        public Task DeletePodAsync(string podNamespace, string name, string uid, CancellationToken cancellationToken)
        {
            Deletions.Add((podNamespace, name, uid));
            return inner.DeletePodAsync(podNamespace, name, uid, cancellationToken);
        }

        public Task<JsonObject?> GetSecretAsync(string podNamespace, string name, CancellationToken cancellationToken) => inner.GetSecretAsync(podNamespace, name, cancellationToken);

        public Task RecordEventAsync(JsonObject pod, KubeletEvent evt, CancellationToken cancellationToken) => inner.RecordEventAsync(pod, evt, cancellationToken);
    }
}
