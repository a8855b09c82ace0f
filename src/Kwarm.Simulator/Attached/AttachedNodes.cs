using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Simulator.Attached;

/// <summary>
/// Simulated nodes attached to any API server, as KWOK's are: each registers a Node (labelled
/// <c>kwarm.io/simulated-node=true</c>), keeps a Lease, reports Ready, clears the not-ready taint, and plays the pods
/// the cluster's scheduler binds to it (pulls from the simulated <see cref="Registry"/>, container states through
/// <c>pods/status</c>, deletion confirmed once the containers stopped). Nothing else of the simulator runs: the
/// cluster's own controllers and scheduler do their jobs.
/// </summary>
public sealed partial class AttachedNodes : IAsyncDisposable
{
    private readonly ApiConnection _connection;
    private readonly Kubelet _kubelet;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ILogger _logger;
    private readonly AttachOptions _options;
    private readonly Scenario? _scenario;

    private AttachedNodes(AttachOptions options, ApiConnection connection, ImageRegistry registry, Scenario? scenario, ILogger logger)
    {
        _options = options;
        _scenario = scenario;
        _connection = connection;
        _logger = logger;
        Registry = registry;
        var api = new KubernetesKubeletApi(connection, options.Simulation.Time, ReportError);
        _kubelet = new Kubelet(api, new KubeletSettings
        {
            Options = options.Simulation,
            Registry = registry,
            NodeLeases = options.NodeLeases,
            ReportError = ReportError,
        });
        _loop = Task.Run(() => _kubelet.RunAsync(_stopping.Token));
    }

    /// <summary>The registry catalogue and faults the nodes pull from (change it at any time).</summary>
    public ImageRegistry Registry { get; }

    public Uri Server => _connection.Server;

    public IReadOnlyCollection<string> NodeNames => _kubelet.NodeNames;

    /// <summary>Every pull the nodes performed so far.</summary>
    public IReadOnlyList<ImagePull> Pulls => _kubelet.Pulls;

    /// <summary>Unexpected failures so far (a failed write, a broken watch); tests assert it stays empty.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>Normalised references and repo digests in a node's image cache.</summary>
    public IReadOnlyCollection<string> CachedImages(string node) => _kubelet.CachedImages(node);

    /// <summary>Pulls a node made so far (an image started from its cache is not a pull).</summary>
    public int PullCount(string node) => _kubelet.PullCount(node);

    /// <summary>Connects with the kubeconfig and registers <see cref="AttachOptions.Nodes"/> nodes (plus a scenario's node groups).</summary>
    public static async Task<AttachedNodes> StartAsync(AttachOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var nodes = Connect(options, logger);
        try
        {
            await nodes.RegisterConfiguredNodesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await nodes.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return nodes;
    }

    /// <summary>
    /// Reads the options (kubeconfig, scenario) and prepares the kubelets without registering any node yet; then
    /// <see cref="RegisterConfiguredNodesAsync"/>. Invalid options, scenario or kubeconfig throw here.
    /// </summary>
    public static AttachedNodes Connect(AttachOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var scenario = options.Simulation.ScenarioPath is null ? null : Scenario.Load(options.Simulation.ScenarioPath);
        var registry = new ImageRegistry();
        scenario?.ApplyTo(registry);
        return new AttachedNodes(options, ApiConnection.FromKubeconfig(options.KubeconfigPath), registry, scenario, logger ?? NullLogger.Instance);
    }

    /// <summary>Registers the <see cref="AttachOptions.Nodes"/> nodes and the scenario's node groups.</summary>
    public async Task RegisterConfiguredNodesAsync(CancellationToken cancellationToken = default)
    {
        await AddNodesAsync(_options.Nodes, cancellationToken).ConfigureAwait(false);
        if (_scenario is not null)
        {
            await AddNodesAsync(_scenario.Nodes(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Registers <paramref name="count"/> more nodes named <c>{prefix}-NNNN</c> after the existing ones.</summary>
    public async Task<IReadOnlyList<string>> AddNodesAsync(int count, CancellationToken cancellationToken = default)
    {
        var prefix = _options.NamePrefix + "-";
        var start = _kubelet.NodeNames.Count(n => n.StartsWith(prefix, StringComparison.Ordinal)) + 1;
        var specs = Enumerable.Range(start, count).Select(i => new NodeSpec(prefix + i.ToString("0000", CultureInfo.InvariantCulture))).ToList();
        await AddNodesAsync(specs, cancellationToken).ConfigureAwait(false);
        return [.. specs.Select(s => s.Name)];
    }

    /// <summary>Registers nodes of any shape; each gets the <c>kwarm.io/simulated-node=true</c> label.</summary>
    public async Task AddNodesAsync(IEnumerable<NodeSpec> specs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(specs);
        foreach (var spec in specs)
        {
            var labels = new Dictionary<string, string>(spec.Labels, StringComparer.Ordinal) { [KubernetesKubeletApi.SimulatedNodeLabel] = "true" };
            await _kubelet.AddNodesAsync([spec with { Labels = labels }], cancellationToken).ConfigureAwait(false);
            Log.NodeRegistered(_logger, spec.Name, _connection.Server);
        }
    }

    /// <summary>Makes a node NotReady (Ready condition Unknown, unreachable taints) or Ready again.</summary>
    public Task SetNodeReadyAsync(string node, bool ready, CancellationToken cancellationToken = default) =>
        _kubelet.SetNodeReadyAsync(node, ready, cancellationToken);

    /// <summary>
    /// Deletes the Node objects (and Leases) of these nodes from the cluster. Their kubelets stop first, so nothing
    /// writes them again; the pods bound to them are left to the cluster (its pod garbage collector removes them).
    /// </summary>
    public async Task DeleteNodesAsync(CancellationToken cancellationToken = default)
    {
        await _kubelet.StopAsync().ConfigureAwait(false);
        var options = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "v1" };
        foreach (var node in _kubelet.NodeNames)
        {
            foreach (var path in new[] { $"/apis/coordination.k8s.io/v1/namespaces/{NodeLease.Namespace}/leases/{node}", $"/api/v1/nodes/{node}" })
            {
                try
                {
                    await _connection.DeleteAsync(path, options, cancellationToken).ConfigureAwait(false);
                }
                catch (ApiException e) when (e.Code == 404)
                {
                    // Already gone.
                }
            }

            Log.NodeDeleted(_logger, node);
        }
    }

    private void ReportError(string key, Exception error)
    {
        _errors.Enqueue($"{key}: {error.GetType().Name}: {error.Message}");
        while (_errors.Count > 100)
        {
            _errors.TryDequeue(out _);
        }

        Log.Failed(_logger, key, error.Message, error);
    }

    /// <summary>Stops the kubelets (the Nodes stay registered, as a stopped kubelet's do; see <see cref="DeleteNodesAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await _kubelet.StopAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _kubelet.Dispose();
        _connection.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Node {Node} registered with {Server}")]
        public static partial void NodeRegistered(ILogger logger, string node, Uri server);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Node {Node} deleted")]
        public static partial void NodeDeleted(ILogger logger, string node);

        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Simulated kubelet failure on {Key}: {Reason}")]
        public static partial void Failed(ILogger logger, string key, string reason, Exception error);
    }
}
