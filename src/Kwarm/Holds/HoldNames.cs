using System.Security.Cryptography;
using System.Text;
using Kwarm.Resources;

namespace Kwarm.Holds;

/// <summary>
/// Names and label values the hold controller writes. Every one is derived from content only (the workload's kind and
/// name, the hold id, the image), so a restarted or newly elected controller computes the same names and finds
/// the objects its predecessor created instead of creating duplicates.
/// </summary>
public static class HoldNames
{
    /// <summary>Object names and label values are at most this long (DNS-1123 label, label value).</summary>
    public const int MaxNameLength = 63;

    private const int HashLength = 16;
    private const int MaxDeploymentPart = 30;
    private const int MaxImagePart = 14;

    /// <summary>
    /// The PrePullImage name of a workload's image. A Deployment's is <see cref="PrePullImage(string, string, string)"/>
    /// (unchanged, so an upgrade mid-hold finds the PrePullImages it made); a StatefulSet's or DaemonSet's hash also covers the
    /// kind, so workloads of different kinds and the same name never share a name.
    /// </summary>
    public static string PrePullImage(WorkloadKind kind, string workloadName, string holdId, string image) =>
        kind == WorkloadKind.Deployment ? PrePullImage(workloadName, holdId, image) : Named(workloadName, image, Hash(kind.ToString(), workloadName, holdId, image));

    /// <summary>
    /// <c>&lt;deployment&gt;-&lt;image&gt;-&lt;hash&gt;</c>, at most 63 characters, lowercase DNS-1123: the readable parts are
    /// shortened freely because the 64-bit hash of (Deployment, hold id, image) alone keeps names apart.
    /// </summary>
    public static string PrePullImage(string deploymentName, string holdId, string image)
    {
        ArgumentNullException.ThrowIfNull(deploymentName);
        ArgumentNullException.ThrowIfNull(holdId);
        ArgumentNullException.ThrowIfNull(image);
        return Named(deploymentName, image, Hash(deploymentName, holdId, image));
    }

    private static string Named(string workloadName, string image, string hash)
    {
        var parts = new[]
        {
            Dns1123Part(workloadName, MaxDeploymentPart),
            Dns1123Part(ImageShortName(image), MaxImagePart),
            hash,
        };
        return string.Join('-', parts.Where(part => part.Length > 0));
    }

    /// <summary>
    /// The value of the <c>kwarm.io/deployment</c> label: the name itself when it is a valid label value (at most
    /// 63 characters), else a shortened name with a hash of the full one. The real name is kept in an annotation.
    /// </summary>
    public static string DeploymentLabelValue(string deploymentName)
    {
        ArgumentNullException.ThrowIfNull(deploymentName);
        if (deploymentName.Length <= MaxNameLength && IsLabelValue(deploymentName))
        {
            return deploymentName;
        }

        var hash = Hash(deploymentName);
        return Dns1123Part(deploymentName, MaxNameLength - HashLength - 1) is { Length: > 0 } prefix ? prefix + "-" + hash : hash;
    }

    /// <summary>
    /// The value of the <c>kwarm.io/statefulset</c> or <c>kwarm.io/daemonset</c> label, shortened as
    /// <see cref="DeploymentLabelValue"/> is.
    /// </summary>
    public static string WorkloadLabelValue(string workloadName) => DeploymentLabelValue(workloadName);

    /// <summary>An event's name on a workload: a Deployment's as <see cref="Event(string, string[])"/>, the others' hash the kind too.</summary>
    public static string Event(WorkloadKind kind, string workloadName, params string[] content) =>
        kind == WorkloadKind.Deployment ? Event(workloadName, content) : Event(workloadName, [kind.ToString(), .. content]);

    /// <summary>A deterministic event name, so the same event created twice is refused with 409 by the API server.</summary>
    public static string Event(string deploymentName, params string[] content)
    {
        ArgumentNullException.ThrowIfNull(deploymentName);
        // Event names are DNS subdomains (253 characters); the Deployment name alone may already be 253 long.
        var prefix = deploymentName.Length > 200 ? deploymentName[..200].TrimEnd('-', '.') : deploymentName;
        return prefix + "." + Hash([deploymentName, .. content]);
    }

    private static string ImageShortName(string image)
    {
        var repository = Kwarm.Resources.ImageReference.Repository(image);
        var slash = repository.LastIndexOf('/');
        return slash < 0 ? repository : repository[(slash + 1)..];
    }

    /// <summary>Lowercase letters, digits and single dashes, no dash at either end, at most <paramref name="maxLength"/> characters.</summary>
    private static string Dns1123Part(string text, int maxLength)
    {
        var builder = new StringBuilder(Math.Min(text.Length, maxLength));
        foreach (var character in text)
        {
            if (builder.Length >= maxLength)
            {
                break;
            }

            var lower = char.ToLowerInvariant(character);
            if (char.IsAsciiLetterLower(lower) || char.IsAsciiDigit(lower))
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

    private static bool IsLabelValue(string value) =>
        value.Length == 0
        || (char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1])
            && value.All(character => char.IsAsciiLetterOrDigit(character) || character is '-' or '_' or '.'));

    private static string Hash(params string[] content)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', content)), hash);
        return Convert.ToHexStringLower(hash)[..HashLength];
    }
}
