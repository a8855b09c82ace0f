using System.Globalization;
using System.Net;

namespace Kwarm.Hosting;

/// <summary>
/// A listener address in the controller-runtime form <c>[host]:port</c>: <c>:8080</c> (every interface),
/// <c>127.0.0.1:8080</c>, <c>[::1]:8080</c> or <c>localhost:8080</c>. Port 0 asks the system for a free port.
/// </summary>
internal sealed record BindAddress(IPAddress? Host, int Port)
{
    public static bool TryParse(string? text, out BindAddress address)
    {
        address = new BindAddress(null, 0);
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var colon = text.LastIndexOf(':');
        if (colon < 0 ||
            !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ||
            port > IPEndPoint.MaxPort)
        {
            return false;
        }

        var host = text[..colon];
        if (host.Length == 0)
        {
            address = new BindAddress(null, port);
            return true;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = new BindAddress(IPAddress.Loopback, port);
            return true;
        }

        // An IPv6 host needs brackets, or its own colons would be read as the port separator.
        var bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (host.Contains(':', StringComparison.Ordinal) && !bracketed)
        {
            return false;
        }

        var literal = bracketed ? host[1..^1] : host;
        if (!IPAddress.TryParse(literal, out var ip) || (bracketed != (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)))
        {
            return false;
        }

        // IPAddress.TryParse accepts "1" as 0.0.0.1; only a dotted quad is a plausible IPv4 bind address.
        if (!bracketed && literal.Count(c => c == '.') != 3)
        {
            return false;
        }

        address = new BindAddress(ip, port);
        return true;
    }

    public override string ToString() => Host switch
    {
        null => $":{Port.ToString(CultureInfo.InvariantCulture)}",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } => $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}",
        _ => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}",
    };
}
