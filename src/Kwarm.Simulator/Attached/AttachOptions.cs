using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Attached;

/// <summary>How simulated nodes attach to an API server.</summary>
public sealed partial record AttachOptions
{
    /// <summary>The kubeconfig (its current context) the kubelets use: an identity allowed to write Nodes, pods/status, Events and Leases cluster-wide.</summary>
    public required string KubeconfigPath { get; init; }

    /// <summary>Nodes to register at start, named <c>{NamePrefix}-0001</c> and on.</summary>
    public int Nodes { get; init; }

    public string NamePrefix { get; init; } = "kwarm-sim";

    /// <summary>Keep a node Lease per node (see <see cref="KubeletSettings.NodeLeases"/>).</summary>
    public bool NodeLeases { get; init; } = true;

    /// <summary>
    /// Durations, bandwidth, clock and scenario, as for the in-process simulator (<see cref="SimulatorOptions.TimeFactor"/>,
    /// <see cref="SimulatorOptions.NodeHeartbeat"/>, <see cref="SimulatorOptions.NodeBandwidthBytesPerSecond"/>,
    /// <see cref="SimulatorOptions.ContainerStartTime"/>, <see cref="SimulatorOptions.CommandRunTime"/>,
    /// <see cref="SimulatorOptions.RecordEvents"/>, <see cref="SimulatorOptions.ScenarioPath"/>); its API server settings are unused.
    /// </summary>
    public SimulatorOptions Simulation { get; init; } = new();

    /// <summary>Throws a clear <see cref="ArgumentException"/> for options the nodes cannot run with.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (!File.Exists(KubeconfigPath))
        {
            problems.Add($"kubeconfig {KubeconfigPath} does not exist");
        }

        if (Nodes < 0)
        {
            problems.Add($"Nodes must not be negative (got {Nodes})");
        }

        if (string.IsNullOrEmpty(NamePrefix) || !NodeNamePrefix().IsMatch(NamePrefix))
        {
            problems.Add($"NamePrefix must be lower-case letters, digits and '-', starting with a letter or digit (got \"{NamePrefix}\")");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid attach options: " + string.Join("; ", problems));
        }

        Simulation.Validate();
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9]([a-z0-9.-]{0,40}[a-z0-9])?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex NodeNamePrefix();
}
