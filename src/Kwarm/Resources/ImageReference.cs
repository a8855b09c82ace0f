using System.Text.RegularExpressions;

namespace Kwarm.Resources;

/// <summary>
/// Container image references (<c>[registry[:port]/]path[:tag][@digest]</c>): splitting them without a registry round
/// trip, and checking them against the grammar of the distribution project's <c>reference</c> package, which the
/// kubelet applies before it pulls (a reference outside it fails on the node with <c>InvalidImageName</c>).
/// </summary>
/// <remarks>
/// <para>
/// The grammar, as the CRD's <c>spec.image</c> pattern says it: an optional registry host (DNS-like components, upper
/// case allowed, or a bracketed IPv6 address) with an optional port, followed by '/'; one or more '/'-separated
/// path components of lower-case alphanumerics joined by '.', '_', '__' or runs of '-'; an optional tag
/// (<c>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}</c>); an optional digest. Digests are limited to the algorithms the
/// kubelet's digest library accepts, with their exact lengths in lower-case hex (<c>sha256:</c> + 64,
/// <c>sha384:</c> + 96, <c>sha512:</c> + 128): the general <c>algorithm:hex</c> grammar lets through
/// <c>md5:…</c>, which the node then refuses.
/// </para>
/// <para>
/// Beyond the pattern, <see cref="Describe"/> applies the two rules the distribution parser adds and a regular
/// expression cannot say: the name (registry and path) is at most 255 characters, and a bare 64-hex-digit string is an
/// image ID, not a reference. The schema bounds the whole reference at <see cref="MaxLength"/> characters: room for a
/// 255-character name, a full tag and a sha256 digest. A full parser (normalisation, Docker Hub defaults) is a separate piece of work; this
/// only decides whether a pull can start.
/// </para>
/// </remarks>
public static partial class ImageReference
{
    /// <summary>The longest <c>spec.image</c> the schema accepts.</summary>
    public const int MaxLength = 512;

    /// <summary>The longest registry-and-path name, the distribution parser's own limit.</summary>
    public const int NameMaxLength = 255;

    /// <summary>The longest <c>spec.imageDigest</c>: <c>sha512:</c> and 128 hex digits.</summary>
    public const int DigestMaxLength = 135;

    private const string DomainComponent = "([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private const string Host = "(" + DomainComponent + @"(\." + DomainComponent + @")*|\[[a-fA-F0-9:]+\])";
    private const string PathComponent = "[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*";
    private const string NameBody = "(" + Host + "(:[0-9]+)?/)?" + PathComponent + "(/" + PathComponent + ")*";
    private const string TagBody = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    private const string DigestBody = "(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})";
    private const string ReferenceBody = NameBody + "(:" + TagBody + ")?(@" + DigestBody + ")?";

    /// <summary>The CRD's pattern for <c>spec.image</c> (RE2; the same in .NET for the constructs used).</summary>
    public const string Pattern = "^" + ReferenceBody + "$";

    /// <summary>The CRD's pattern for <c>spec.imageDigest</c>.</summary>
    public const string DigestPattern = "^" + DigestBody + "$";

    /// <summary>
    /// The reference without its tag and digest: <c>registry:5000/team/app:1.2@sha256:…</c> → <c>registry:5000/team/app</c>.
    /// A colon only starts a tag after the last slash, so a registry port is kept.
    /// </summary>
    public static string Repository(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var digestAt = reference.IndexOf('@', StringComparison.Ordinal);
        var withoutDigest = digestAt >= 0 ? reference[..digestAt] : reference;
        var lastSlash = withoutDigest.LastIndexOf('/');
        var tagColon = withoutDigest.IndexOf(':', lastSlash + 1);
        return tagColon >= 0 ? withoutDigest[..tagColon] : withoutDigest;
    }

    /// <summary>Whether a node could pull <paramref name="reference"/> as written (see <see cref="Describe"/>).</summary>
    public static bool IsValid(string? reference) => Describe(reference) is null;

    /// <summary>Null for a reference the kubelet accepts, else why it does not, written for a person.</summary>
    public static string? Describe(string? reference)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            return "an image reference is required";
        }

        if (reference.Length > MaxLength)
        {
            return $"an image reference is at most {MaxLength} characters, this one has {reference.Length}";
        }

        if (!ReferenceRegex().IsMatch(reference))
        {
            return $"\"{KubernetesNames.Shorten(reference)}\" is not a valid image reference "
                + "([registry[:port]/]lower-case/path[:tag][@sha256:<64 hex digits>])";
        }

        var name = Repository(reference);
        if (name.Length > NameMaxLength)
        {
            return $"the repository name of an image reference is at most {NameMaxLength} characters, this one has {name.Length}";
        }

        return IdentifierRegex().IsMatch(reference)
            ? $"\"{reference}\" is an image ID (64 hex digits), not a reference a node can pull"
            : null;
    }

    /// <summary>Null for a digest a node can pull by, else why it is not one.</summary>
    public static string? DescribeDigest(string? digest) =>
        digest is not null && digest.Length <= DigestMaxLength && DigestRegex().IsMatch(digest)
            ? null
            : $"\"{KubernetesNames.Shorten(digest ?? "")}\" is not a digest (sha256: and 64, sha384: and 96, or sha512: and 128 lower-case hex digits)";

    // .NET's '$' also matches before a final newline, Go's does not: the .NET forms end with \z.
    [GeneratedRegex("^" + ReferenceBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex ReferenceRegex();

    [GeneratedRegex("^" + DigestBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex DigestRegex();

    [GeneratedRegex(@"^[a-f0-9]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierRegex();
}
