using System.Globalization;
using System.Net;
using Kwarm.Simulator.Attached;

namespace Kwarm.Simulator.Hosting;

/// <summary>The executable's flags: serve a simulated cluster (default), or attach simulated nodes (<c>nodes</c>).</summary>
public sealed record CommandLine(SimulatorOptions Options, bool Help, string? Error)
{
    /// <summary>Run the scale benchmark instead of serving (see docs/benchmarks.md).</summary>
    public bool Benchmark { get; init; }

    /// <summary>Pods for the benchmark.</summary>
    public int BenchmarkPods { get; init; } = 5000;

    /// <summary>Set for the <c>nodes</c> command: attach simulated nodes to the API server of a kubeconfig.</summary>
    public AttachOptions? Attach { get; init; }

    /// <summary><c>nodes --delete-nodes-on-exit</c>: remove the Node objects when stopped.</summary>
    public bool DeleteNodesOnExit { get; init; }

    public const string Usage = """
        usage: Kwarm.Simulator [--nodes N] [--port P] [--kubeconfig-out PATH] [--time-factor F] [--scenario FILE]
                               [--webhook-service-endpoint NAMESPACE/NAME=127.0.0.1:PORT ...] [--cert-manager]
          --nodes N            simulated nodes to create at start, named node-0001... (default 3)
          --port P             port on 127.0.0.1 (default 0: a free port)
          --kubeconfig-out P   where to write the kubeconfig (default sim.kubeconfig)
          --time-factor F      multiply simulated durations (pulls, container start, back-off) by F (default 1)
          --scenario FILE      JSON or YAML scenario: registry images, faults, nodes
          --webhook-service-endpoint NAMESPACE/NAME=127.0.0.1:PORT
                               send webhook calls for that Service to a local endpoint (repeatable), e.g.
                               kwarm-system/kwarm-webhook=127.0.0.1:9443 for a Kwarm started with its default
                               --webhook-bind-address; an unmapped webhook Service is logged on every call
          --cert-manager       run a minimal cert-manager: Issuer, ClusterIssuer and Certificate (selfSigned and
                               ca issuers) issued into TLS Secrets, and the CA injector for webhook configurations
          --benchmark          measure N nodes + --pods P in one process and print a Markdown report
          --pods P             pods for --benchmark (default 5000)

        usage: Kwarm.Simulator nodes --kubeconfig PATH [--nodes N] [--name-prefix P] [--time-factor F] [--scenario FILE]
                                     [--no-leases] [--delete-nodes-on-exit]
          attach simulated nodes to the API server of a kubeconfig (its current context), as KWOK does: they register,
          report Ready, and run the pods the cluster's scheduler binds to them, pulling from the simulated registry
          --kubeconfig PATH    kubeconfig of an identity that may write nodes, nodes/status, pods/status, pods
                               (delete), events and leases, and read pods and secrets, cluster-wide (e.g. cluster admin)
          --nodes N            nodes to register (default 3), named PREFIX-0001 and on
          --name-prefix P      node name prefix (default kwarm-sim)
          --time-factor F      multiply simulated durations by F (default 1)
          --scenario FILE      registry images and faults, and node groups to register as well
          --no-leases          keep no node Leases (post the Ready condition every 10 s instead)
          --delete-nodes-on-exit  delete the Node objects on Ctrl+C (default: leave them, as a stopped kubelet does)
        """;

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Count > 0 && args[0] == "nodes" ? ParseNodes(args.Skip(1).ToList()) : ParseServe(args);
    }

    private static CommandLine ParseServe(IReadOnlyList<string> args)
    {
        var options = new SimulatorOptions { Nodes = 3, KubeconfigPath = "sim.kubeconfig" };
        var benchmark = false;
        var pods = 5000;
        foreach (var (flag, value, error) in Flags(args, ["--benchmark", "--cert-manager"]))
        {
            if (error is not null)
            {
                return new CommandLine(options, false, error);
            }

            switch (flag)
            {
                case "-h" or "--help":
                    return new CommandLine(options, true, null);
                case "--benchmark":
                    benchmark = true;
                    break;
                case "--cert-manager":
                    options = options with { CertManager = true };
                    break;
                case "--nodes" when Count(value, 100_000) is { } nodes:
                    options = options with { Nodes = nodes };
                    break;
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535:
                    options = options with { Port = port };
                    break;
                case "--kubeconfig-out" when value!.Length > 0:
                    options = options with { KubeconfigPath = value };
                    break;
                case "--time-factor" when Factor(value) is { } factor:
                    options = options with { TimeFactor = factor };
                    break;
                case "--pods" when Count(value, 1_000_000) is { } podCount && podCount > 0:
                    pods = podCount;
                    break;
                case "--scenario" when value!.Length > 0:
                    options = options with { ScenarioPath = value };
                    break;
                case "--webhook-service-endpoint" when ParseServiceEndpoint(value!) is { } mapping:
                    options = options with
                    {
                        WebhookServices = new Dictionary<string, IPEndPoint>(options.WebhookServices, StringComparer.Ordinal) { [mapping.Service] = mapping.EndPoint },
                    };
                    break;
                case "--webhook-service-endpoint":
                    return new CommandLine(options, false, $"invalid value \"{value}\" for --webhook-service-endpoint: expected NAMESPACE/NAME=127.0.0.1:PORT (a loopback address)");
                case "--nodes" or "--port" or "--kubeconfig-out" or "--time-factor" or "--scenario" or "--pods":
                    return new CommandLine(options, false, $"invalid value \"{value}\" for {flag}");
                default:
                    return new CommandLine(options, false, $"unknown flag {flag}");
            }
        }

        return new CommandLine(options, false, null) { Benchmark = benchmark, BenchmarkPods = pods };
    }

    private static CommandLine ParseNodes(IReadOnlyList<string> args)
    {
        var simulation = new SimulatorOptions();
        string? kubeconfig = null;
        var nodes = 3;
        var prefix = "kwarm-sim";
        var leases = true;
        var deleteOnExit = false;
        foreach (var (flag, value, error) in Flags(args, ["--no-leases", "--delete-nodes-on-exit"]))
        {
            if (error is not null)
            {
                return new CommandLine(simulation, false, "nodes: " + error);
            }

            switch (flag)
            {
                case "-h" or "--help":
                    return new CommandLine(simulation, true, null);
                case "--no-leases":
                    leases = false;
                    break;
                case "--delete-nodes-on-exit":
                    deleteOnExit = true;
                    break;
                case "--kubeconfig" when value!.Length > 0:
                    kubeconfig = value;
                    break;
                case "--nodes" when Count(value, 10_000) is { } count:
                    nodes = count;
                    break;
                case "--name-prefix" when value!.Length > 0:
                    prefix = value;
                    break;
                case "--time-factor" when Factor(value) is { } factor:
                    simulation = simulation with { TimeFactor = factor };
                    break;
                case "--scenario" when value!.Length > 0:
                    simulation = simulation with { ScenarioPath = value };
                    break;
                case "--kubeconfig" or "--nodes" or "--name-prefix" or "--time-factor" or "--scenario":
                    return new CommandLine(simulation, false, $"nodes: invalid value \"{value}\" for {flag}");
                default:
                    return new CommandLine(simulation, false, $"nodes: unknown flag {flag}");
            }
        }

        if (kubeconfig is null)
        {
            return new CommandLine(simulation, false, "nodes: --kubeconfig PATH is required");
        }

        var attach = new AttachOptions { KubeconfigPath = kubeconfig, Nodes = nodes, NamePrefix = prefix, NodeLeases = leases, Simulation = simulation };
        return new CommandLine(simulation, false, null) { Attach = attach, DeleteNodesOnExit = deleteOnExit };
    }

    /// <summary>Splits <c>--flag value</c> and <c>--flag=value</c>; <paramref name="switches"/> and help take no value.</summary>
    private static IEnumerable<(string Flag, string? Value, string? Error)> Flags(IReadOnlyList<string> args, IReadOnlyCollection<string> switches)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string? value = null;
            var equals = flag.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = flag[(equals + 1)..];
                flag = flag[..equals];
            }

            if (flag is "-h" or "--help" || switches.Contains(flag))
            {
                yield return (flag, value, value is null ? null : $"flag {flag} takes no value");
                continue;
            }

            if (!flag.StartsWith("--", StringComparison.Ordinal))
            {
                yield return (flag, null, $"unexpected argument \"{flag}\"");
                yield break;
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    yield return (flag, null, $"flag {flag} needs a value");
                    yield break;
                }

                value = args[++i];
            }

            yield return (flag, value, null);
        }
    }

    private static int? Count(string? value, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count <= max ? count : null;

    private static double? Factor(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor) && factor > 0 && !double.IsInfinity(factor) ? factor : null;

    /// <summary>
    /// <c>namespace/name=127.0.0.1:port</c> (an <c>https://</c> in front and <c>localhost</c> or <c>[::1]</c> are taken
    /// too); null unless the Service name is whole and the endpoint is a loopback address with a port.
    /// </summary>
    internal static (string Service, IPEndPoint EndPoint)? ParseServiceEndpoint(string value)
    {
        var equals = value.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            return null;
        }

        var service = value[..equals];
        var parts = service.Split('/');
        if (parts.Length != 2 || parts.Any(part => part.Length == 0))
        {
            return null;
        }

        var address = value[(equals + 1)..];
        if (address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            address = address["https://".Length..].TrimEnd('/');
        }

        address = address.Replace("localhost:", "127.0.0.1:", StringComparison.OrdinalIgnoreCase);
        return IPEndPoint.TryParse(address, out var endPoint) && endPoint.Port > 0 && IPAddress.IsLoopback(endPoint.Address)
            ? (service, endPoint)
            : null;
    }
}
