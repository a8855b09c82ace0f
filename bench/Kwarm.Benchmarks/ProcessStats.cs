using System.Globalization;

namespace Kwarm.Benchmarks;

/// <summary>
/// Another process's memory and CPU from <c>/proc</c>: resident set now (VmRSS) and at its peak (VmHWM), and user +
/// system CPU time, and what the resident set is made of (anonymous memory: the GC heap and native allocations;
/// file-backed: mapped assemblies and libraries; shared: the JIT's double-mapped code), so that the numbers are that process's alone and not the benchmark's or the simulator's.
/// </summary>
internal readonly record struct ProcessStats(long RssBytes, long PeakRssBytes, TimeSpan Cpu, long AnonBytes, long FileBytes, long SharedBytes)
{
    /// <summary>Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    public static ProcessStats Read(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
        long Kib(string key) => status.Where(line => line.StartsWith(key, StringComparison.Ordinal))
            .Select(line => long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture))
            .FirstOrDefault() * 1024;

        // Fields after the parenthesised command name (which may hold spaces): utime and stime are fields 14 and 15 of the line.
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new ProcessStats(Kib("VmRSS"), Kib("VmHWM"), TimeSpan.FromSeconds(ticks / TicksPerSecond), Kib("RssAnon"), Kib("RssFile"), Kib("RssShmem"));
    }

    public static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture);
}
