using System.Collections.Concurrent;
using Kwarm.Resources;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Benchmarks;

/// <summary>
/// When a joining node passed each step, stamped at the simulator's commit: registered, Ready (its network started),
/// its warming taint lifted (null when it never had one), and schedulable for the benchmark's pods (Ready and without
/// any <c>NoSchedule</c> taint).
/// </summary>
internal sealed record JoiningNode(string Name, DateTimeOffset Registered, DateTimeOffset? Ready, DateTimeOffset? WarmingLifted, DateTimeOffset? Schedulable);

/// <summary>
/// Listens to the simulator's store (synchronously, in commit order, like <see cref="RolloutRecorder"/>) for the Nodes
/// whose names start with a prefix, so a taint's removal is timed when the API server wrote it.
/// </summary>
internal sealed class JoiningNodeRecorder
{
    private readonly ConcurrentDictionary<string, JoiningNode> _nodes = new(StringComparer.Ordinal);
    private readonly string _prefix;
    private readonly TimeProvider _time;

    public JoiningNodeRecorder(SimulatedCluster cluster, string prefix)
    {
        _prefix = prefix;
        _time = cluster.Options.Time;
        cluster.Store.Subscribe(OnCommit);
    }

    public IReadOnlyList<JoiningNode> Nodes => [.. _nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal)];

    /// <summary>Runs under the store's lock: only reads the committed object and records the first time of each step.</summary>
    private void OnCommit(StoreEvent change)
    {
        var stored = change.Object;
        if (stored.Type.Plural != "nodes" || !stored.Name.StartsWith(_prefix, StringComparison.Ordinal) || change.Type == WatchEventType.Deleted)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var node = stored.ToNode();
        var taints = (node["spec"]?["taints"]?.AsArray() ?? []).Select(t => (Key: t?["key"]?.GetValue<string>(), Effect: t?["effect"]?.GetValue<string>())).ToList();
        var ready = (node["status"]?["conditions"]?.AsArray() ?? []).Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True");
        var warming = taints.Any(t => t.Key == KwarmApi.WarmingTaintKey && t.Effect == KwarmApi.WarmingTaintEffect);
        var schedulable = ready && !taints.Any(t => t.Effect is "NoSchedule" or "NoExecute");
        var before = _nodes.GetValueOrDefault(stored.Name) ?? new JoiningNode(stored.Name, now, null, null, null);
        _nodes[stored.Name] = before with
        {
            Ready = before.Ready ?? (ready ? now : null),
            // Lifted: a commit without the taint after one with it (a node that joined without it keeps null).
            WarmingLifted = before.WarmingLifted ?? (!warming && WasWarming(change) ? now : null),
            Schedulable = before.Schedulable ?? (schedulable ? now : null),
        };
    }

    private static bool WasWarming(StoreEvent change) =>
        change.Previous?.ToNode()["spec"]?["taints"]?.AsArray().Any(t => t?["key"]?.GetValue<string>() == KwarmApi.WarmingTaintKey) == true;
}
