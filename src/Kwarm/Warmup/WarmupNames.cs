using System.Security.Cryptography;
using System.Text;

namespace Kwarm.Warmup;

/// <summary>Deterministic names: the same image gets the same PrePullImage, the same fact the same Event (a repeat is refused with 409).</summary>
public static class WarmupNames
{
    private const string PrePullImagePrefix = "kwarm-warmup-";

    /// <summary>The warm-up PrePullImage of one image for one node (<c>kwarm-warmup-</c> and 16 hex digits of the canonical reference and the node's name).</summary>
    public static string PrePullImage(string canonicalImage, string node) => PrePullImagePrefix + Hash(canonicalImage + "\n" + node);

    /// <summary>An Event about a node: its name (cut to leave room) and a hash of the node's uid and the event's content.</summary>
    public static string Event(string nodeName, string nodeUid, params string[] content)
    {
        ArgumentNullException.ThrowIfNull(nodeName);
        var prefix = nodeName.Length > 200 ? nodeName[..200].TrimEnd('-', '.') : nodeName;
        return prefix + ".warmup." + Hash(string.Join('\n', [nodeUid, .. content]));
    }

    private static string Hash(string text) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
}
