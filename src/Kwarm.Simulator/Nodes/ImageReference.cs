using System.Text.RegularExpressions;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// An image reference read the way containerd reads one (the distribution reference rules, as containerd's
/// <c>reference/docker</c> normalises them), so simulated kubelets name images exactly as real containerd nodes do:
/// <list type="bullet">
/// <item>the first path component is a registry host when it contains <c>.</c> or <c>:</c>, is <c>localhost</c>, or
/// has an upper-case letter; otherwise the registry is <c>docker.io</c> (and <c>index.docker.io</c> is <c>docker.io</c>);</item>
/// <item>a single-component Docker Hub name gets <c>library/</c> (<c>nginx</c> → <c>docker.io/library/nginx</c>);</item>
/// <item>no tag and no digest means tag <c>latest</c>;</item>
/// <item>with a digest the tag is dropped, as containerd's <c>ParseDockerRef</c> does: <c>nginx:1.27@sha256:…</c> is pulled
/// and listed as <c>docker.io/library/nginx@sha256:…</c>.</item>
/// </list>
/// Digests are <c>sha256:</c> with 64 lower-case hex digits (the only algorithm registries use in practice).
/// The simulator keeps its own copy of these rules: it must not depend on the operator it tests.
/// </summary>
/// <param name="Domain">The registry host (with port), e.g. <c>docker.io</c> or <c>registry.local:5000</c>.</param>
/// <param name="Path">The repository path inside the registry, e.g. <c>library/nginx</c>.</param>
public sealed partial record ImageReference(string Domain, string Path, string? Tag, string? Digest)
{
    /// <summary>Longest repository name (as written) the distribution rules accept.</summary>
    public const int MaxNameLength = 255;

    private const string DockerHub = "docker.io";

    /// <summary>Registry host and path, e.g. <c>docker.io/library/nginx</c>.</summary>
    public string Repository => $"{Domain}/{Path}";

    /// <summary>
    /// The name containerd pulls and reports: <c>repository@digest</c> when pinned by digest, else
    /// <c>repository:tag</c> (tag defaulting to <c>latest</c>).
    /// </summary>
    public string Normalized => Digest is not null ? $"{Repository}@{Digest}" : $"{Repository}:{Tag ?? "latest"}";

    /// <summary>The tag reference containerd lists for the image (null for a digest reference: it lists none).</summary>
    public string? TagReference => Digest is null ? Normalized : null;

    /// <summary>The tag or digest the registry's manifest request names (what containerd's errors quote).</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    /// <summary>The host containerd actually contacts: Docker Hub's API lives on <c>registry-1.docker.io</c>.</summary>
    public string RegistryHost => Domain == DockerHub ? "registry-1.docker.io" : Domain;

    /// <summary>The normalised reference, or the input unchanged when it is not a valid reference.</summary>
    public static string Normalize(string reference) => TryParse(reference)?.Normalized ?? reference;

    /// <summary>Reads <paramref name="reference"/>; null when containerd would refuse it as an invalid reference.</summary>
    public static ImageReference? TryParse(string? reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            return null;
        }

        var rest = reference;
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                return null;
            }
        }

        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                return null;
            }
        }

        if (rest.Length is 0 or > MaxNameLength)
        {
            return null;
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? "" : rest[..slash];
        var hasDomain = slash >= 0
            && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost"
                || !string.Equals(first, first.ToLowerInvariant(), StringComparison.Ordinal));
        var domain = hasDomain ? first : DockerHub;
        var path = hasDomain ? rest[(slash + 1)..] : rest;
        if (!DomainPattern().IsMatch(domain) || !PathPattern().IsMatch(path))
        {
            return null;
        }

        if (domain == "index.docker.io")
        {
            domain = DockerHub;
        }

        if (domain == DockerHub && !path.Contains('/', StringComparison.Ordinal))
        {
            // A bare 64-hex name would be read as an image ID by the distribution rules, never as a repository.
            if (digest is null && tag is null && HexIdentifier().IsMatch(path))
            {
                return null;
            }

            path = "library/" + path;
        }

        return new ImageReference(domain, path, tag, digest);
    }

    [GeneratedRegex(@"^sha256:[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DomainPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex PathPattern();

    [GeneratedRegex(@"^[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex HexIdentifier();
}
