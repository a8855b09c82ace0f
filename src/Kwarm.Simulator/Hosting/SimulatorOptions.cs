using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Simulator.Hosting;

/// <summary>How a simulated cluster is started.</summary>
public sealed record SimulatorOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Where the kubeconfig is written; null writes one into a fresh temporary directory.</summary>
    public string? KubeconfigPath { get; init; }

    /// <summary>Simulated nodes created at start (named <c>node-0001</c>, ...).</summary>
    public int Nodes { get; init; }

    /// <summary>Committed events kept for watches; a watch from before them answers 410 Expired.</summary>
    public int WatchHistorySize { get; init; } = 20_000;

    /// <summary>How often a watch with allowWatchBookmarks gets a BOOKMARK when idle.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Multiplies every simulated duration (pull times, heartbeats, container start): 0.01 runs 100x faster.</summary>
    public double TimeFactor { get; init; } = 1.0;

    /// <summary>Clock for timestamps and timers.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Webhook services (namespace/name) mapped to the loopback endpoint that serves them.</summary>
    public IReadOnlyDictionary<string, IPEndPoint> WebhookServices { get; init; } = new Dictionary<string, IPEndPoint>(StringComparer.Ordinal);

    /// <summary>Run the simulated controllers, scheduler and kubelets (false = API server only).</summary>
    public bool RunControllers { get; init; } = true;

    /// <summary>How often each kubelet renews its node Lease (before <see cref="TimeFactor"/>).</summary>
    public TimeSpan NodeHeartbeat { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bandwidth of a node's image pulls, bytes per second (before <see cref="TimeFactor"/>).</summary>
    public long NodeBandwidthBytesPerSecond { get; init; } = 100L * 1024 * 1024;

    /// <summary>Time from a pod's containers being pulled to running and ready (before <see cref="TimeFactor"/>).</summary>
    public TimeSpan ContainerStartTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a pull container runs before exiting, so pull Jobs complete (before <see cref="TimeFactor"/>).</summary>
    public TimeSpan CommandRunTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether kubelets and controllers write Event objects (turn off for large benchmarks).</summary>
    public bool RecordEvents { get; init; } = true;

    /// <summary>
    /// Where the simulator logs what an operator would read in kube-apiserver's log: webhook calls that failed (and
    /// whether the write then went through), and webhook Services that are not mapped to a local endpoint.
    /// </summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Run a minimal cert-manager (its CRDs, selfSigned and ca issuers, the CA injector; see <see cref="Controllers.CertManager"/>),
    /// so that an install relying on cert-manager, such as <c>deploy/kustomize/default</c>, applies and gets its certificates.
    /// </summary>
    public bool CertManager { get; init; }

    /// <summary>Optional scenario file (JSON) with registry images, faults and nodes.</summary>
    public string? ScenarioPath { get; init; }

    /// <summary>Throws a clear <see cref="ArgumentException"/> for options the simulator cannot run with.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Port is < 0 or > 65535)
        {
            problems.Add($"Port must be 0..65535 (got {Port})");
        }

        if (Nodes < 0)
        {
            problems.Add($"Nodes must not be negative (got {Nodes})");
        }

        if (!(TimeFactor > 0) || double.IsInfinity(TimeFactor))
        {
            problems.Add($"TimeFactor must be a positive number (got {TimeFactor})");
        }

        if (WatchHistorySize < 1)
        {
            problems.Add($"WatchHistorySize must be at least 1 (got {WatchHistorySize})");
        }

        if (BookmarkInterval <= TimeSpan.Zero || NodeHeartbeat <= TimeSpan.Zero)
        {
            problems.Add("BookmarkInterval and NodeHeartbeat must be positive");
        }

        if (NodeBandwidthBytesPerSecond <= 0)
        {
            problems.Add($"NodeBandwidthBytesPerSecond must be positive (got {NodeBandwidthBytesPerSecond})");
        }

        if (ScenarioPath is not null && !File.Exists(ScenarioPath))
        {
            problems.Add($"scenario file {ScenarioPath} does not exist");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid simulator options: " + string.Join("; ", problems));
        }
    }

    /// <summary>Scales a simulated duration by <see cref="TimeFactor"/>.</summary>
    public TimeSpan Scaled(TimeSpan duration) => TimeSpan.FromTicks(Math.Max(0, (long)(duration.Ticks * TimeFactor)));
}
