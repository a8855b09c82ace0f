using System.Globalization;

namespace Kwarm.Simulator.Controllers;

/// <summary>Parses Kubernetes resource quantities ("100m", "2", "64Mi", "1G") for the scheduler's fit check.</summary>
public static class Quantity
{
    /// <summary>CPU in millicores.</summary>
    public static long MilliCpu(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        if (text.EndsWith('m'))
        {
            return long.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var milli) ? milli : 0;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var cores) ? (long)Math.Ceiling(cores * 1000) : 0;
    }

    /// <summary>Bytes.</summary>
    public static long Bytes(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        (string Suffix, double Factor)[] suffixes =
        [
            ("Ki", 1024), ("Mi", 1024d * 1024), ("Gi", 1024d * 1024 * 1024), ("Ti", 1024d * 1024 * 1024 * 1024),
            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("m", 1e-3),
        ];
        foreach (var (suffix, factor) in suffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return (long)Math.Ceiling(value * factor);
            }
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain) ? (long)Math.Ceiling(plain) : 0;
    }
}
