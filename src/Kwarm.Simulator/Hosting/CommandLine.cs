using System.Globalization;

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
          --nodes N            simulated nodes to create at start (default 3)
          --port P             port on 127.0.0.1 (default 0: a free port)
          --kubeconfig-out P   where to write the kubeconfig (default sim.kubeconfig)
          --time-factor F      multiply simulated durations (pulls, container start, back-off) by F (default 1)
          --scenario FILE      JSON or YAML scenario: registry images, faults, nodes
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
                case "--nodes" or "--port" or "--kubeconfig-out" or "--time-factor" or "--scenario" or "--pods":
                    return new CommandLine(options, false, $"invalid value \"{value}\" for {flag}");
                default:
                    return new CommandLine(options, false, $"unknown flag {flag}");
            }
        }

        return new CommandLine(options, false, null) { Benchmark = benchmark, BenchmarkPods = pods };
    }
}
