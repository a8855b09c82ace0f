using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Kwarm.Pulling;

/// <summary>
/// Names, labels and annotations of pull Jobs (DESIGN §5). Job names are deterministic, so creating the Job of an
/// attempt twice (a retry after a timeout, a second reconcile, a new leader) answers <c>409 AlreadyExists</c>
/// instead of starting a second pull; label values are always valid, whatever the length of the names they carry.
/// </summary>
public static partial class PullObjectNames
{
    public const string PrePullImageLabel = "kwarm.io/prepullimage";
    public const string NodeLabel = "kwarm.io/node";

    /// <summary>The real (unhashed) names, which label values cannot always hold.</summary>
    public const string PrePullImageAnnotation = "kwarm.io/prepullimage";
    public const string NodeAnnotation = "kwarm.io/node";
    public const string AttemptAnnotation = "kwarm.io/attempt";

    public const int MaxNameLength = 63;
    private const string Prefix = "pull";
    private const int HashLength = 10;
    private const int MaxPrePullImagePart = 20;
    private const int MaxNodePart = 25;

    /// <summary>
    /// <c>pull-&lt;prepullimage&gt;-&lt;node&gt;-&lt;hash&gt;</c>, at most 63 characters of DNS-1123 label
    /// (a Job's name becomes a label value of its pods). Both readable parts are shortened; the hash covers the full
    /// (namespace, name, node, attempt) tuple, so two different tuples never share a name in practice (50 bits).
    /// </summary>
    public static string JobName(string @namespace, string prePullImage, string node, int attempt)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        ArgumentNullException.ThrowIfNull(prePullImage);
        ArgumentNullException.ThrowIfNull(node);
        var hash = Hash(string.Join('\0', @namespace, prePullImage, node, attempt.ToString(CultureInfo.InvariantCulture)));
        var parts = new[] { Prefix, Readable(prePullImage, MaxPrePullImagePart), Readable(node, MaxNodePart), hash }
            .Where(part => part.Length > 0);
        return string.Join('-', parts);
    }

    /// <summary>
    /// A valid label value naming <paramref name="value"/>: the value itself when it already is one, else a readable
    /// prefix and a hash of the whole (node names reach 253 characters, label values only 63).
    /// </summary>
    public static string LabelValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= MaxNameLength && LabelValuePattern().IsMatch(value))
        {
            return value;
        }

        var readable = Readable(value, MaxNameLength - HashLength - 1);
        return readable.Length == 0 ? Hash(value) : readable + "-" + Hash(value);
    }

    /// <summary>Lower-case letters, digits and single dashes, at most <paramref name="maxLength"/>, no dash at either end.</summary>
    private static string Readable(string value, int maxLength)
    {
        var builder = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (var character in value)
        {
            if (builder.Length >= maxLength)
            {
                break;
            }

            var lower = char.ToLowerInvariant(character);
            var allowed = lower is (>= 'a' and <= 'z') or (>= '0' and <= '9');
            if (allowed)
            {
                builder.Append(lower);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        return builder.ToString().Trim('-');
    }

    /// <summary>Ten characters of base-32 (a–z, 2–7) of the SHA-256 of <paramref name="value"/>.</summary>
    private static string Hash(string value)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(value));
        var builder = new StringBuilder(HashLength);
        ulong bits = BitConverter.ToUInt64(digest, 0);
        for (var i = 0; i < HashLength; i++)
        {
            builder.Append(Alphabet[(int)(bits & 31)]);
            bits >>= 5;
        }

        return builder.ToString();
    }

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelValuePattern();
}
