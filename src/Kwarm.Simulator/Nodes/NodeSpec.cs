using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Nodes;

/// <summary>A simulated node to add to the cluster.</summary>
public sealed record NodeSpec(string Name)
{
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Taints as in Node.spec.taints: (key, value, effect).</summary>
    public IReadOnlyList<(string Key, string? Value, string Effect)> Taints { get; init; } = [];

    public string Architecture { get; init; } = "amd64";

    public string OperatingSystem { get; init; } = "linux";

    /// <summary>Pull bandwidth in bytes per second; null uses the cluster default.</summary>
    public long? BandwidthBytesPerSecond { get; init; }

    /// <summary>Images already on the node (they appear in status.images and need no pull).</summary>
    public IReadOnlyList<string> PreloadedImages { get; init; } = [];

    public string Cpu { get; init; } = "4";

    public string Memory { get; init; } = "16Gi";

    public int MaxPods { get; init; } = 110;

    public bool Unschedulable { get; init; }

    /// <summary>
    /// How long (simulated) the node reports NotReady after it registers, as a real node does while its CNI plugin
    /// starts: until then it keeps the <c>node.kubernetes.io/not-ready</c> taint and runs no pods. Zero: Ready at once.
    /// </summary>
    public TimeSpan NetworkReadyAfter { get; init; }

    /// <summary>The kubelet's Ready condition message while the network plugin has not started, as containerd reports it.</summary>
    internal const string NetworkNotReadyMessage =
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized";

    internal JsonObject ToNode(string now)
    {
        var labels = new JsonObject
        {
            ["kubernetes.io/hostname"] = Name,
            ["kubernetes.io/os"] = OperatingSystem,
            ["kubernetes.io/arch"] = Architecture,
            ["beta.kubernetes.io/os"] = OperatingSystem,
            ["beta.kubernetes.io/arch"] = Architecture,
        };
        foreach (var (key, value) in Labels)
        {
            labels[key] = value;
        }

        var spec = new JsonObject();
        if (Taints.Count > 0)
        {
            spec["taints"] = new JsonArray([.. Taints.Select(t =>
            {
                var taint = new JsonObject { ["key"] = t.Key };
                if (t.Value is not null)
                {
                    taint["value"] = t.Value;
                }

                taint["effect"] = t.Effect;
                return (JsonNode)taint;
            })]);
        }

        if (Unschedulable)
        {
            spec["unschedulable"] = true;
        }

        var resources = new JsonObject { ["cpu"] = Cpu, ["ephemeral-storage"] = "100Gi", ["memory"] = Memory, ["pods"] = MaxPods.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = Name, ["labels"] = labels },
            ["spec"] = spec,
            ["status"] = new JsonObject
            {
                ["capacity"] = resources.DeepClone(),
                ["allocatable"] = resources,
                ["conditions"] = new JsonArray(
                    Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", now),
                    Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now),
                    Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", now),
                    NetworkReadyAfter > TimeSpan.Zero
                        ? Condition("Ready", "False", "KubeletNotReady", NetworkNotReadyMessage, now)
                        : Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", now)),
                ["addresses"] = new JsonArray(
                    new JsonObject { ["type"] = "InternalIP", ["address"] = "192.0.2.1" },
                    new JsonObject { ["type"] = "Hostname", ["address"] = Name }),
                ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = 10250 } },
                ["nodeInfo"] = new JsonObject
                {
                    ["machineID"] = Name,
                    ["systemUUID"] = Name,
                    ["bootID"] = Name,
                    ["kernelVersion"] = "6.1.0-simulated",
                    ["osImage"] = "Kwarm simulated node",
                    ["containerRuntimeVersion"] = "containerd://1.7.0",
                    ["kubeletVersion"] = "v1.32.0",
                    ["kubeProxyVersion"] = "v1.32.0",
                    ["operatingSystem"] = OperatingSystem,
                    ["architecture"] = Architecture,
                },
                ["images"] = new JsonArray(),
            },
        };
    }

    internal static JsonObject Condition(string type, string status, string reason, string message, string now) => new()
    {
        ["type"] = type,
        ["status"] = status,
        ["lastHeartbeatTime"] = now,
        ["lastTransitionTime"] = now,
        ["reason"] = reason,
        ["message"] = message,
    };
}
