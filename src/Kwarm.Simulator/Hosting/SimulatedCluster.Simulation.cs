using System.Globalization;
using Kwarm.Simulator.Controllers;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Hosting;

public sealed partial class SimulatedCluster
{
    private readonly List<Task> _loops = [];
    private Kubelet? _kubelet;
    private SimulationContext? _context;
    private PodTimeline? _timeline;

    /// <summary>The registry catalogue and fault injection the kubelets pull from.</summary>
    public ImageRegistry Registry { get; } = new();

    /// <summary>Errors the simulated controllers hit (tests assert this stays empty).</summary>
    public IReadOnlyCollection<string> ControllerErrors => _context?.Errors ?? [];

    private Kubelet Kubelets => _kubelet ?? throw new InvalidOperationException("the simulator was started with RunControllers = false");

    /// <summary>
    /// Every pod's creation, first readiness, deletion request and removal (simulated time), for benchmarks that time a
    /// rollout, e.g. how long each node ran without its daemon during a DaemonSet update.
    /// </summary>
    public IReadOnlyList<PodLifecycle> PodLifecycles => _timeline?.Pods ?? [];

    private void StartSimulation(Scenario? scenario)
    {
        scenario?.ApplyTo(Registry);
        _timeline = new PodTimeline(Options.Time);
        Store.Subscribe(_timeline.OnEvent);
        if (!Options.RunControllers)
        {
            return;
        }

        _context = new SimulationContext(Store, Catalog, Options, Registry) { RecordEvents = Options.RecordEvents };
        var context = _context;
        _kubelet = new Kubelet(new InProcessKubeletApi(context, Server), new KubeletSettings
        {
            Options = Options,
            Registry = Registry,
            ReportError = (key, error) => context.ReportError(nameof(Kubelet), key, error),
        });
        List<Controller> controllers =
        [
            new GarbageCollector(_context),
            new DeploymentController(_context),
            new ReplicaSetController(_context),
            new StatefulSetController(_context),
            new DaemonSetController(_context),
            new JobController(_context),
            new Scheduler(_context),
        ];
        if (Options.CertManager)
        {
            CertManager.Install(Store, Catalog, Options.Time);
            controllers.Add(new CertManager(_context));
        }

        foreach (var controller in controllers)
        {
            Store.Subscribe(controller.OnEvent);
            _loops.Add(Task.Run(() => controller.RunAsync(_stopping.Token)));
        }

        var kubelet = _kubelet;
        _loops.Add(Task.Run(() => kubelet.RunAsync(_stopping.Token)));

        AddNodes(Options.Nodes);
        if (scenario is not null)
        {
            AddNodes(scenario.Nodes());
        }
    }

    /// <summary>Adds <paramref name="count"/> default nodes named <c>node-NNNN</c> after the existing ones.</summary>
    public IReadOnlyList<string> AddNodes(int count)
    {
        var start = Kubelets.NodeNames.Count(n => n.StartsWith("node-", StringComparison.Ordinal)) + 1;
        var specs = Enumerable.Range(start, count).Select(i => new NodeSpec($"node-{i.ToString("0000", CultureInfo.InvariantCulture)}")).ToList();
        AddNodes(specs);
        return [.. specs.Select(s => s.Name)];
    }

    /// <summary>Adds nodes (a node join at run time when the cluster is already running).</summary>
    /// <remarks>
    /// Synchronous: the in-process kubelets' API is the store, whose reads and writes complete before they return, except
    /// each Node's registration, which passes admission and so waits for any webhook registered for <c>nodes</c> CREATE
    /// (up to its timeoutSeconds). A registration the API server refuses throws its <see cref="Api.ApiException"/>, where
    /// a real kubelet would keep retrying; the nodes before it stay registered.
    /// </remarks>
    public void AddNodes(IEnumerable<NodeSpec> nodes) => AddNodesAsync(nodes).GetAwaiter().GetResult();

    /// <summary><see cref="AddNodes(IEnumerable{NodeSpec})"/> without blocking a thread while webhooks answer.</summary>
    public async Task AddNodesAsync(IEnumerable<NodeSpec> nodes, CancellationToken cancellationToken = default)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        await Kubelets.AddNodesAsync(nodes, both.Token).ConfigureAwait(false);
    }

    /// <summary>Makes a node NotReady (kubelet stops reporting; unreachable taints) or Ready again.</summary>
    public void SetNodeReady(string node, bool ready) => Kubelets.SetNodeReadyAsync(node, ready, _stopping.Token).GetAwaiter().GetResult();

    /// <summary>Normalised image references in a node's image cache.</summary>
    public IReadOnlyCollection<string> CachedImages(string node) => Kubelets.CachedImages(node);

    /// <summary>Image pulls a node has performed.</summary>
    public int PullCount(string node) => Kubelets.PullCount(node);

    /// <summary>
    /// Every image pull the kubelets have performed so far (successful or not), with when each pod asked for its image,
    /// when the node started the pull and when it finished: what a benchmark needs to time pulls against other events.
    /// </summary>
    public IReadOnlyList<ImagePull> Pulls => Kubelets.Pulls;

    private async Task StopSimulationAsync()
    {
        if (_kubelet is not null)
        {
            await _kubelet.StopAsync().ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _kubelet?.Dispose();
    }
}
