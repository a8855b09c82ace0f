using System.Security.Cryptography;
using System.Text;

namespace Kwarm.Workloads;

/// <summary>
/// The id of a hold: a short hash of the sorted, distinct image set. Derived from content only (no time,
/// no randomness) so a dry run, a reinvocation and the real request all produce the same patch.
/// </summary>
public static class HoldId
{
    /// <summary>12 hex characters (48 bits): short enough for label values and object names, collisions negligible per Deployment.</summary>
    public const int Length = 12;

    public static string For(IEnumerable<string> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var canonical = string.Join('\n', images.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(canonical), hash);
        return Convert.ToHexStringLower(hash)[..Length];
    }
}
