using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>
/// The default scheduler's filters that matter for Kwarm: node readiness, cordon, taints and tolerations,
/// nodeSelector, required node affinity (matchExpressions and matchFields on metadata.name) and resource requests;
/// scoring spreads pods to the least loaded node. Unschedulable pods wait and are retried when nodes change.
/// </summary>
public sealed class Scheduler : Controller
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Node, long Cpu, long Memory)> _placed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Cpu, long Memory, long Pods)> _usage = new(StringComparer.Ordinal);
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeInfo> _nodes = new(StringComparer.Ordinal);

    public Scheduler(SimulationContext context)
        : base(context)
    {
    }

    public override void OnEvent(StoreEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var obj = change.Object;
        if (obj.Type.StorageKey == "nodes")
        {
            lock (_lock)
            {
                if (change.Type == WatchEventType.Deleted)
                {
                    _nodes.Remove(obj.Name);
                    return;
                }

                var info = NodeInfo.From(obj);
                var before = _nodes.GetValueOrDefault(obj.Name);
                _nodes[obj.Name] = info;
                if (before is not null && before.Fingerprint == info.Fingerprint)
                {
                    // Only status.images or heartbeats changed: nothing a waiting pod could now fit into.
                    return;
                }

                foreach (var key in _waiting)
                {
                    Enqueue(key);
                }
            }

            return;
        }

        if (obj.Type.StorageKey != "pods")
        {
            return;
        }

        TrackUsage(change);
        if (change.Type != WatchEventType.Deleted && obj.NodeName is null && !obj.Deleting && !PodStatus.IsTerminal(obj))
        {
            Enqueue(obj.Key);
        }
        else if (change.Type == WatchEventType.Deleted || obj.NodeName is not null)
        {
            lock (_lock)
            {
                _waiting.Remove(obj.Key);
                if (change.Type == WatchEventType.Deleted || PodStatus.IsTerminal(obj))
                {
                    // Freed capacity may let a waiting pod in.
                    foreach (var key in _waiting)
                    {
                        Enqueue(key);
                    }
                }
            }
        }
    }

    private void TrackUsage(StoreEvent change)
    {
        var pod = change.Object;
        var counts = change.Type != WatchEventType.Deleted && pod.NodeName is { Length: > 0 } && !PodStatus.IsTerminal(pod);
        lock (_lock)
        {
            if (counts && _placed.ContainsKey(pod.Uid))
            {
                // nodeName and requests of a bound pod never change: nothing to recount.
                return;
            }

            if (_placed.Remove(pod.Uid, out var previous))
            {
                var u = _usage.GetValueOrDefault(previous.Node);
                _usage[previous.Node] = (u.Cpu - previous.Cpu, u.Memory - previous.Memory, u.Pods - 1);
            }

            if (counts)
            {
                var node = pod.NodeName!;
                var (cpu, memory) = Requests(pod.ToNode());
                _placed[pod.Uid] = (node, cpu, memory);
                var u = _usage.GetValueOrDefault(node);
                _usage[node] = (u.Cpu + cpu, u.Memory + memory, u.Pods + 1);
            }
        }
    }

    private static (long Cpu, long Memory) Requests(JsonObject pod)
    {
        long cpu = 0, memory = 0;
        foreach (var container in pod.Objects("spec", "containers"))
        {
            cpu += Quantity.MilliCpu(container.Str("resources", "requests", "cpu") ?? container.Str("resources", "limits", "cpu"));
            memory += Quantity.Bytes(container.Str("resources", "requests", "memory") ?? container.Str("resources", "limits", "memory"));
        }

        foreach (var container in pod.Objects("spec", "initContainers"))
        {
            cpu = Math.Max(cpu, Quantity.MilliCpu(container.Str("resources", "requests", "cpu")));
            memory = Math.Max(memory, Quantity.Bytes(container.Str("resources", "requests", "memory")));
        }

        return (cpu, memory);
    }

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        var stored = Store.Get(Context.Pods, ns, name);
        if (stored is null || stored.NodeName is not null || stored.Deleting || PodStatus.IsTerminal(stored))
        {
            return Task.CompletedTask;
        }

        var pod = stored.ToNode();
        if ((pod.Str("spec", "schedulerName") ?? "default-scheduler") != "default-scheduler")
        {
            return Task.CompletedTask;
        }

        List<NodeInfo> nodes;
        lock (_lock)
        {
            nodes = [.. _nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal)];
        }

        var (cpu, memory) = Requests(pod);
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        string? best = null;
        var bestLoad = long.MaxValue;
        var tolerations = pod.Objects("spec", "tolerations").ToList();
        var nodeSelector = pod.StringMap("spec", "nodeSelector");
        var terms = pod.At("spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms") as JsonArray;
        foreach (var node in nodes)
        {
            var reason = Filter(tolerations, nodeSelector, terms, node, cpu, memory);
            if (reason is not null)
            {
                reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                continue;
            }

            long load;
            lock (_lock)
            {
                load = _usage.GetValueOrDefault(node.Name).Pods;
            }

            if (load < bestLoad)
            {
                best = node.Name;
                bestLoad = load;
            }
        }

        if (best is null)
        {
            // As kube-scheduler's FitError: "count reason" strings sorted as strings (Go's sort.Strings), count first.
            var message = $"0/{nodes.Count} nodes are available: {string.Join(", ", reasons.Select(r => $"{r.Value} {r.Key}").Order(StringComparer.Ordinal))}.";
            if (nodes.Count == 0)
            {
                message = "no nodes available to schedule pods";
            }

            lock (_lock)
            {
                _waiting.Add(key);
            }

            var changed = Store.Mutate(Context.Pods, ns, name, p =>
                PodStatus.SetCondition(p.Obj("status"), "PodScheduled", "False", "Unschedulable", message, Context.Now));
            if (changed is not null && changed.ResourceVersion != stored.ResourceVersion)
            {
                Context.RecordSchedulerEvent(pod, "Warning", "FailedScheduling", "Scheduling", message);
            }

            return Task.CompletedTask;
        }

        Store.Mutate(Context.Pods, ns, name, p =>
        {
            if (p.Str("spec", "nodeName") is not null)
            {
                return false;
            }

            p.Obj("spec")["nodeName"] = best;
            PodStatus.SetCondition(p.Obj("status"), "PodScheduled", "True", "", "", Context.Now);
            var condition = p.Objects("status", "conditions").First(c => c.Str("type") == "PodScheduled");
            condition.Remove("reason");
            condition.Remove("message");
            condition["lastProbeTime"] = null;
            return true;
        });
        Context.RecordSchedulerEvent(pod, "Normal", "Scheduled", "Binding", $"Successfully assigned {ns}/{name} to {best}");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The scheduler's reason a node does not fit, or null when it does, in kube-scheduler v1.24's words (measured:
    /// "node(s) had taint {kwarm.io/warming: true}, that the pod didn't tolerate"; 1.25 words it "had untolerated taint").
    /// </summary>
    private string? Filter(List<JsonObject> tolerations, Dictionary<string, string> nodeSelector, JsonArray? terms, NodeInfo node, long cpu, long memory)
    {
        if (!node.Ready && !Tolerates(tolerations, "node.kubernetes.io/not-ready", null, "NoSchedule"))
        {
            return "node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate";
        }

        if (node.Unschedulable && !Tolerates(tolerations, "node.kubernetes.io/unschedulable", null, "NoSchedule"))
        {
            return "node(s) were unschedulable";
        }

        foreach (var (key, value, effect) in node.Taints)
        {
            if (effect is "NoSchedule" or "NoExecute" && !Tolerates(tolerations, key, value, effect))
            {
                return $"node(s) had taint {{{key}: {value}}}, that the pod didn't tolerate";
            }
        }

        foreach (var (key, value) in nodeSelector)
        {
            if (node.Labels.GetValueOrDefault(key) != value)
            {
                return "node(s) didn't match Pod's node affinity/selector";
            }
        }

        if (terms is not null && !terms.OfType<JsonObject>().Any(term => TermMatches(term, node.Labels, node.Name)))
        {
            return "node(s) didn't match Pod's node affinity/selector";
        }

        var (usedCpu, usedMemory, usedPods) = Usage(node.Name);
        if (usedPods + 1 > node.Pods)
        {
            return "Too many pods";
        }

        if (cpu > 0 && usedCpu + cpu > node.Cpu)
        {
            return "Insufficient cpu";
        }

        if (memory > 0 && usedMemory + memory > node.Memory)
        {
            return "Insufficient memory";
        }

        return null;
    }

    private (long Cpu, long Memory, long Pods) Usage(string node)
    {
        lock (_lock)
        {
            return _usage.GetValueOrDefault(node);
        }
    }

    internal static bool TermMatches(JsonObject term, IReadOnlyDictionary<string, string> labels, string nodeName)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal) { ["metadata.name"] = nodeName };
        return Requirements(term, "matchExpressions").All(r => r.Matches(labels))
            && Requirements(term, "matchFields").All(r => r.Matches(fields))
            && (term["matchExpressions"] is JsonArray { Count: > 0 } || term["matchFields"] is JsonArray { Count: > 0 });
    }

    private static IEnumerable<NodeRequirement> Requirements(JsonObject term, string field) =>
        term.Objects(field).Select(e => new NodeRequirement(
            e.Str("key") ?? "",
            e.Str("operator") ?? "",
            e["values"] is JsonArray values ? [.. values.Select(v => v?.ToString() ?? "")] : []));

    internal static bool Tolerates(IEnumerable<JsonObject> tolerations, string key, string? value, string effect) =>
        tolerations.Any(t =>
            (t.Str("effect") is null or "" || t.Str("effect") == effect)
            && (t.Str("operator") == "Exists"
                ? (t.Str("key") is null or "" || t.Str("key") == key)
                : t.Str("key") == key && (t.Str("value") ?? "") == (value ?? "")));

    /// <summary>What the filters need of a node, parsed once per node change.</summary>
    private sealed record NodeInfo(string Name, IReadOnlyDictionary<string, string> Labels, bool Ready, bool Unschedulable, IReadOnlyList<(string Key, string? Value, string? Effect)> Taints, long Cpu, long Memory, long Pods)
    {
        /// <summary>Everything the filters read, as one comparable string.</summary>
        public string Fingerprint { get; } = string.Join(
            "|",
            Ready,
            Unschedulable,
            Cpu,
            Memory,
            Pods,
            string.Join(",", Taints.Select(t => $"{t.Key}={t.Value}:{t.Effect}")),
            string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));

        public static NodeInfo From(StoredObject stored)
        {
            var node = stored.ToNode();
            var allocatable = node.At("status", "allocatable");
            return new NodeInfo(
                stored.Name,
                stored.Labels,
                node.Objects("status", "conditions").Any(c => c.Str("type") == "Ready" && c.Str("status") == "True"),
                node.Bool("spec", "unschedulable") == true,
                [.. node.Objects("spec", "taints").Select(t => (t.Str("key") ?? "", t.Str("value"), t.Str("effect")))],
                Quantity.MilliCpu(allocatable.Str("cpu") ?? "4"),
                Quantity.Bytes(allocatable.Str("memory") ?? "16Gi"),
                allocatable.Long("pods") ?? 110);
        }
    }

    private sealed record NodeRequirement(string Key, string Operator, IReadOnlyList<string> Values)
    {
        public bool Matches(IReadOnlyDictionary<string, string> labels)
        {
            var present = labels.TryGetValue(Key, out var value);
            return Operator switch
            {
                "In" => present && Values.Contains(value!, StringComparer.Ordinal),
                "NotIn" => !present || !Values.Contains(value!, StringComparer.Ordinal),
                "Exists" => present,
                "DoesNotExist" => !present,
                "Gt" => present && long.TryParse(value, out var a) && Values.Count == 1 && long.TryParse(Values[0], out var b) && a > b,
                "Lt" => present && long.TryParse(value, out var c) && Values.Count == 1 && long.TryParse(Values[0], out var d) && c < d,
                _ => false,
            };
        }
    }
}
