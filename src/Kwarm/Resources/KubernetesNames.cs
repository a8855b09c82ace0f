using System.Text.RegularExpressions;

namespace Kwarm.Resources;

/// <summary>
/// Kubernetes' own rules for label keys and values and for object names (apimachinery's <c>IsQualifiedName</c>,
/// <c>IsValidLabelValue</c>, <c>IsDNS1123Label</c>, <c>IsDNS1123Subdomain</c>), as the regular expressions the CRD
/// schemas carry and as checks Kwarm runs on what it reads. One source of truth: a test holds each CRD pattern to
/// the constant here.
/// </summary>
/// <remarks>
/// The patterns are RE2 (the API server compiles them with Go's <c>regexp</c>) and mean the same in .NET: only
/// ASCII classes, no <c>\w</c> or <c>\d</c> (Unicode-aware in .NET), no look-around. A length bound that a regular
/// expression cannot express compactly (a label key's DNS prefix of at most 253 characters) is the schema's
/// <c>maxLength</c> on the whole string plus a check here.
/// </remarks>
public static partial class KubernetesNames
{
    /// <summary>The name part of a label key: 1 to 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric.</summary>
    private const string LabelNameBody = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";

    /// <summary>One DNS-1123 label: 1 to 63 lower-case alphanumerics or '-', starting and ending alphanumeric.</summary>
    private const string DnsLabelBody = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";

    /// <summary>A DNS-1123 subdomain as Kubernetes checks it: dot-separated parts, no bound per part, 253 in all.</summary>
    private const string DnsSubdomainBody = @"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

    private const string LabelKeyBody = "(" + DnsSubdomainBody + "/)?" + LabelNameBody;

    private const string LabelValueBody = "(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?";

    /// <summary>A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters.</summary>
    public const string LabelKeyPattern = "^" + LabelKeyBody + "$";

    /// <summary>The longest label key: a 253-character prefix, the '/', a 63-character name.</summary>
    public const int LabelKeyMaxLength = DnsSubdomainMaxLength + 1 + LabelNameMaxLength;

    /// <summary>The longest name part of a label key.</summary>
    public const int LabelNameMaxLength = 63;

    /// <summary>A label value: empty, or 1 to 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric.</summary>
    public const string LabelValuePattern = "^" + LabelValueBody + "$";

    public const int LabelValueMaxLength = 63;

    /// <summary>A DNS-1123 label (a namespace name).</summary>
    public const string DnsLabelPattern = "^" + DnsLabelBody + "$";

    public const int DnsLabelMaxLength = 63;

    /// <summary>A DNS-1123 subdomain (a node, service account or PriorityClass name).</summary>
    public const string DnsSubdomainPattern = "^" + DnsSubdomainBody + "$";

    public const int DnsSubdomainMaxLength = 253;

    /// <summary>Null for a valid label key, else why it is not one.</summary>
    public static string? DescribeInvalidLabelKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "a label key must not be empty";
        }

        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (key.Length > LabelKeyMaxLength || slash > DnsSubdomainMaxLength || !LabelKeyRegex().IsMatch(key))
        {
            return $"\"{Shorten(key)}\" is not a label key (an optional DNS subdomain of at most {DnsSubdomainMaxLength} characters and '/', "
                + $"then a name of at most {LabelNameMaxLength} alphanumerics, '-', '_' or '.', starting and ending alphanumeric)";
        }

        return null;
    }

    /// <summary>Null for a valid label value (empty included), else why it is not one.</summary>
    public static string? DescribeInvalidLabelValue(string? value) =>
        value is null || (value.Length <= LabelValueMaxLength && LabelValueRegex().IsMatch(value))
            ? null
            : $"\"{Shorten(value)}\" is not a label value (at most {LabelValueMaxLength} alphanumerics, '-', '_' or '.', starting and ending alphanumeric)";

    /// <summary>Null for a valid DNS-1123 label (a namespace name), else why it is not one.</summary>
    public static string? DescribeInvalidDnsLabel(string? name) =>
        name is not null && name.Length <= DnsLabelMaxLength && DnsLabelRegex().IsMatch(name)
            ? null
            : $"\"{Shorten(name ?? "")}\" is not a DNS-1123 label (at most {DnsLabelMaxLength} lower-case alphanumerics or '-', starting and ending alphanumeric)";

    /// <summary>Null for a valid DNS-1123 subdomain (a node, service account or PriorityClass name), else why it is not one.</summary>
    public static string? DescribeInvalidDnsSubdomain(string? name) =>
        name is not null && name.Length <= DnsSubdomainMaxLength && DnsSubdomainRegex().IsMatch(name)
            ? null
            : $"\"{Shorten(name ?? "")}\" is not a DNS-1123 subdomain (at most {DnsSubdomainMaxLength} lower-case alphanumerics, '-' or '.', each part starting and ending alphanumeric)";

    /// <summary>A value quoted in a message, cut so that a 5,000-character mistake does not fill a condition.</summary>
    internal static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";

    // .NET's '$' also matches before a final newline, Go's does not: the .NET forms end with \z.
    [GeneratedRegex("^" + LabelKeyBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex LabelKeyRegex();

    [GeneratedRegex("^" + LabelValueBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex LabelValueRegex();

    [GeneratedRegex("^" + DnsLabelBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabelRegex();

    [GeneratedRegex("^" + DnsSubdomainBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex DnsSubdomainRegex();
}
