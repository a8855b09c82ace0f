using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Nodes;

/// <summary>One node's runtime state: readiness, image cache and its one-at-a-time pull queue.</summary>
internal sealed class NodeRuntime(NodeSpec spec, long bandwidth) : IDisposable
{
    /// <summary>How often (simulated time) a transfer looks at the registry's speed again.</summary>
    private static readonly TimeSpan TransferStep = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _pullQueue = new(1, 1);
    private int _pulls;
    private volatile bool _ready = true;

    public string Name => spec.Name;

    public NodeSpec Spec => spec;

    /// <summary>The Node object's uid once registered (the Lease's owner).</summary>
    public string Uid { get; set; } = "";

    public bool Ready
    {
        get => _ready;
        set => _ready = value;
    }

    public NodeImageCache Images { get; } = new();

    public int Pulls => Volatile.Read(ref _pulls);

    /// <summary>Stops the pod watch of this node (set once it is registered).</summary>
    public IAsyncDisposable? PodWatch { get; set; }

    /// <summary>The timer that makes a node registered NotReady Ready (<see cref="NodeSpec.NetworkReadyAfter"/>).</summary>
    public ITimer? NetworkReady { get; set; }

    /// <returns>The outcome and when the node's pull queue let this pull start.</returns>
    public async Task<(PullResult Result, DateTimeOffset StartedAt)> PullAsync(string image, IReadOnlySet<string> credentials, ImageRegistry registry, SimulatorOptions options, CancellationToken token)
    {
        await _pullQueue.WaitAsync(token).ConfigureAwait(false);
        var startedAt = options.Time.GetUtcNow();
        try
        {
            var result = registry.Resolve(image, spec.Architecture, credentials);
            if (!result.Succeeded)
            {
                await Task.Delay(options.Scaled(TimeSpan.FromMilliseconds(200)), options.Time, token).ConfigureAwait(false);
                return (result, startedAt);
            }

            // Pulling a digest the node already holds only resolves the manifest.
            var already = Images.Lookup(image);
            if (already is not null && already.Digest == result.Digest)
            {
                await Task.Delay(options.Scaled(TimeSpan.FromSeconds(0.1)), options.Time, token).ConfigureAwait(false);
            }
            else
            {
                await TransferAsync(image, result, registry, options, token).ConfigureAwait(false);
            }

            Images.Remember(image, result);
            Interlocked.Increment(ref _pulls);
            return (result, startedAt);
        }
        finally
        {
            _pullQueue.Release();
        }
    }

    /// <summary>
    /// Moves the image's bytes at the node's bandwidth divided by the registry's current slowness, re-read every
    /// <see cref="TransferStep"/>: a registry that recovers (<see cref="ImageRegistry.SetSlow"/> back to 1) speeds up the
    /// pulls already under way, as a throttled transfer speeds up when the throttle lifts.
    /// </summary>
    private async Task TransferAsync(string image, PullResult result, ImageRegistry registry, SimulatorOptions options, CancellationToken token)
    {
        var left = 1.0;
        var factor = result.SlowFactor;
        while (left > 0)
        {
            var whole = Math.Max(1e-6, result.SizeBytes / (double)Math.Max(1, bandwidth) * factor);
            var seconds = Math.Min(left * whole, TransferStep.TotalSeconds);
            await Task.Delay(options.Scaled(TimeSpan.FromSeconds(seconds)), options.Time, token).ConfigureAwait(false);
            left -= seconds / whole;
            factor = registry.SlowFactor(image);
        }
    }

    public void Dispose()
    {
        NetworkReady?.Dispose();
        _pullQueue.Dispose();
    }
}
