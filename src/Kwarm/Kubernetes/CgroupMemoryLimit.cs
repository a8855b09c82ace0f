using System.Globalization;

namespace Kwarm.Kubernetes;

/// <summary>
/// The memory limit of the cgroup Kwarm runs in, as the kernel enforces it (in a pod: the container's
/// <c>resources.limits.memory</c>). cgroup v2 is read first (<c>memory.max</c>, where <c>max</c> means no limit), then
/// cgroup v1 (<c>memory/memory.limit_in_bytes</c>, where "no limit" is the largest page-aligned 64-bit value, e.g.
/// 9223372036854771712 with 4 KiB pages). Both paths are the container's own cgroup as the runtime mounts it at
/// <c>/sys/fs/cgroup</c>. The answer only feeds a warning, so a missing or unreadable file is "no limit known", never
/// an error.
/// </summary>
public static class CgroupMemoryLimit
{
    /// <summary>Where container runtimes mount the container's cgroup.</summary>
    public const string DefaultRoot = "/sys/fs/cgroup";

    /// <summary>
    /// Limits at or above this (4 EiB) are cgroup v1's "unlimited" sentinel, whose exact value depends on the page size
    /// (0x7FFFFFFFFFFFF000 with 4 KiB pages, 0x7FFFFFFFFFFF0000 with 64 KiB pages); no machine has that much memory.
    /// </summary>
    public const long UnlimitedThreshold = 1L << 62;

    /// <summary>The limit in bytes, or null when there is none or it cannot be read.</summary>
    /// <param name="root">The cgroup mount, <see cref="DefaultRoot"/> in production; tests pass a directory of fake files.</param>
    public static long? Read(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var v2 = Path.Combine(root, "memory.max");
        if (File.Exists(v2))
        {
            // On cgroup v2 the v1 file does not exist; an unreadable v2 file means no limit is known.
            return Parse(ReadFirstLine(v2));
        }

        return Parse(ReadFirstLine(Path.Combine(root, "memory", "memory.limit_in_bytes")));
    }

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? Parse(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes is > 0 and < UnlimitedThreshold
            ? bytes
            : null;
}
