using System.Globalization;
using System.Runtime.InteropServices;

namespace Kwarm.Benchmarks;

/// <summary>What the numbers were measured on: they mean little without it.</summary>
internal static class MachineDescription
{
    public static string Describe()
    {
        var cpu = ReadFirst("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memory = ReadFirst("/proc/meminfo", "MemTotal") is { } total && long.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture, out var kib)
            ? $"{kib / 1024.0 / 1024.0:0.0} GiB RAM"
            : "RAM unknown";
        return $"{Environment.ProcessorCount} logical CPUs ({cpu}), {memory}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
            $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, process nice value {NiceValue()}; load average before the run: {LoadAverage()}";
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>The scheduling priority (from <c>/proc/self/stat</c>): a run under <c>nice -n -10</c> says so in its report.</summary>
    private static string NiceValue()
    {
        if (!File.Exists("/proc/self/stat"))
        {
            return "unknown";
        }

        // Fields after the parenthesised command name; nice is field 19 of the whole line, 17th after the name.
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 16 ? fields[16] : "unknown";
    }

    private static string? ReadFirst(string path, string key)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        return File.ReadLines(path)
            .Where(line => line.StartsWith(key, StringComparison.Ordinal))
            .Select(line => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
            .FirstOrDefault();
    }
}
