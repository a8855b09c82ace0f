using System.Globalization;
using System.Net;

namespace Kwarm.Simulator.Hosting;

/// <summary>The executable's flags.</summary>
public sealed record CommandLine(SimulatorOptions Options, bool Help, string? Error)
{
    /// <summary>Run the scale benchmark instead of serving (see docs/benchmarks.md).</summary>
    public bool Benchmark { get; init; }

    /// <summary>Pods for the benchmark.</summary>
    public int BenchmarkPods { get; init; } = 5000;

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
        """;

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new SimulatorOptions { Nodes = 3, KubeconfigPath = "sim.kubeconfig" };
        var benchmark = false;
        var pods = 5000;
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string? value = null;
            if (flag.Contains('=', StringComparison.Ordinal))
            {
                value = flag[(flag.IndexOf('=', StringComparison.Ordinal) + 1)..];
                flag = flag[..flag.IndexOf('=', StringComparison.Ordinal)];
            }

            if (flag is "-h" or "--help")
            {
                return new CommandLine(options, true, null);
            }

            if (flag == "--benchmark")
            {
                benchmark = true;
                continue;
            }

            if (flag == "--cert-manager")
            {
                options = options with { CertManager = true };
                continue;
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    return new CommandLine(options, false, $"flag {flag} needs a value");
                }

                value = args[++i];
            }

            switch (flag)
            {
                case "--nodes" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var nodes) && nodes <= 100_000:
                    options = options with { Nodes = nodes };
                    break;
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535:
                    options = options with { Port = port };
                    break;
                case "--kubeconfig-out" when value.Length > 0:
                    options = options with { KubeconfigPath = value };
                    break;
                case "--time-factor" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor) && factor > 0:
                    options = options with { TimeFactor = factor };
                    break;
                case "--pods" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var podCount) && podCount is > 0 and <= 1_000_000:
                    pods = podCount;
                    break;
                case "--scenario" when value.Length > 0:
                    options = options with { ScenarioPath = value };
                    break;
                case "--webhook-service-endpoint" when ParseServiceEndpoint(value) is { } mapping:
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
