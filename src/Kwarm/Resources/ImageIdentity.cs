using System.Diagnostics.CodeAnalysis;

namespace Kwarm.Resources;

/// <summary>
/// One image as container runtimes identify it (DESIGN §10): a container image reference parsed and normalised the
/// way containerd and the kubelet do (the distribution project's "normalized named" rules). <c>nginx:1.27.1</c> and
/// <c>docker.io/library/nginx:1.27.1</c> are the same identity. Every comparison of images in Kwarm — the webhook's
/// "images changed" and hold id, the node skip check, PrePullImage dedupe and names — goes through this type.
/// </summary>
/// <remarks>
/// Rules: the first path component is a registry host when it contains <c>.</c> or <c>:</c>, is <c>localhost</c>, or
/// has an upper-case letter; otherwise the registry is <c>docker.io</c> (and <c>index.docker.io</c> is written
/// <c>docker.io</c>). A Docker Hub name of one component gets <c>library/</c>. Repository paths are lower case. A
/// reference with neither tag nor digest gets the tag <c>latest</c>; a digest is kept as written
/// (<c>algorithm:hex</c>), and with a digest the tag no longer decides what is pulled.
/// </remarks>
public sealed record ImageIdentity
{
    public const string DockerHub = "docker.io";
    private const string LegacyDockerHub = "index.docker.io";
    private const string DefaultTag = "latest";

    private ImageIdentity(string domain, string path, string? tag, string? digest)
    {
        Domain = domain;
        Path = path;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>Registry host, with its port when given: <c>docker.io</c>, <c>registry.example.com:5000</c>.</summary>
    public string Domain { get; }

    /// <summary>Repository path inside the registry: <c>library/nginx</c>, <c>team/app</c>.</summary>
    public string Path { get; }

    /// <summary>The tag; <c>latest</c> when the reference named neither tag nor digest.</summary>
    public string? Tag { get; }

    /// <summary><c>algorithm:hex</c>, when the reference pins one.</summary>
    public string? Digest { get; }

    /// <summary><c>docker.io/library/nginx</c>.</summary>
    public string Repository => Domain + "/" + Path;

    /// <summary>
    /// The reference as runtimes report it in <c>status.images</c> and container statuses: <c>repo@digest</c> when a
    /// digest is pinned (the tag then says nothing about the content), else <c>repo:tag</c>.
    /// </summary>
    public string Reference => Digest is not null ? Repository + "@" + Digest : Repository + ":" + Tag;

    /// <summary>Everything the reference said, normalised: <c>repo[:tag][@digest]</c>. Two images are the same when these are equal.</summary>
    public string Canonical => Repository + (Tag is not null ? ":" + Tag : "") + (Digest is not null ? "@" + Digest : "");

    public override string ToString() => Canonical;

    /// <summary>
    /// Whether a node whose <c>status.images</c> lists <paramref name="names"/> holds this image: a pinned digest must
    /// be listed as <c>repo@digest</c>; a tag as <c>repo:tag</c> (un-normalised names, as some runtimes or older
    /// simulators write them, are normalised before comparing).
    /// </summary>
    public bool IsListedIn(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var wanted = Reference;
        foreach (var name in names)
        {
            if (string.Equals(name, wanted, StringComparison.Ordinal))
            {
                return true;
            }

            // Most names are listed fully qualified already (containerd, CRI-O): parsing them again could not make them equal.
            if (!IsFullyQualified(name) && TryParse(name, out var listed, out _) && string.Equals(listed.Reference, wanted, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsFullyQualified(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || name.StartsWith(LegacyDockerHub + "/", StringComparison.Ordinal))
        {
            return false;
        }

        var first = name.AsSpan(0, slash);
        var isHost = first.Contains('.') || first.Contains(':') || first.SequenceEqual("localhost");
        return isHost && (name.Contains('@', StringComparison.Ordinal) || name.IndexOf(':', name.LastIndexOf('/') + 1) >= 0);
    }

    /// <summary>The same image pinned to <paramref name="digest"/> (what <c>spec.imageDigest</c> asks nodes to pull).</summary>
    public ImageIdentity WithDigest(string digest)
    {
        ArgumentException.ThrowIfNullOrEmpty(digest);
        return new ImageIdentity(Domain, Path, Tag, digest);
    }

    /// <summary>Parses and normalises; throws <see cref="FormatException"/> naming the problem.</summary>
    public static ImageIdentity Parse(string reference) =>
        TryParse(reference, out var identity, out var error) ? identity : throw new FormatException(error);

    /// <summary>The canonical form, or the reference as written when it does not parse (compared as an opaque string).</summary>
    public static string CanonicalOrSelf(string reference) =>
        TryParse(reference, out var identity, out _) ? identity.Canonical : reference;

    public static bool TryParse(string? reference, [NotNullWhen(true)] out ImageIdentity? identity, [NotNullWhen(false)] out string? error)
    {
        identity = null;
        error = ImageReference.Describe(reference);
        if (error is not null)
        {
            return false;
        }

        var text = reference!;
        string? digest = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = text[(at + 1)..];
            text = text[..at];
        }

        string? tag = null;
        var lastSlash = text.LastIndexOf('/');
        var tagColon = text.IndexOf(':', lastSlash + 1);
        if (tagColon >= 0)
        {
            tag = text[(tagColon + 1)..];
            text = text[..tagColon];
        }

        var (domain, path) = SplitDomain(text);
        if (!string.Equals(path, path.ToLowerInvariant(), StringComparison.Ordinal))
        {
            error = $"\"{reference}\": repository name must be lowercase";
            return false;
        }

        identity = new ImageIdentity(domain, path, tag ?? (digest is null ? DefaultTag : null), digest);
        return true;
    }

    private static (string Domain, string Path) SplitDomain(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        string domain;
        string path;
        if (slash < 0)
        {
            (domain, path) = (DockerHub, name);
        }
        else
        {
            var first = name[..slash];
            var isHost = first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal)
                || string.Equals(first, "localhost", StringComparison.Ordinal) || !string.Equals(first, first.ToLowerInvariant(), StringComparison.Ordinal);
            (domain, path) = isHost ? (first, name[(slash + 1)..]) : (DockerHub, name);
        }

        if (string.Equals(domain, LegacyDockerHub, StringComparison.Ordinal))
        {
            domain = DockerHub;
        }

        if (string.Equals(domain, DockerHub, StringComparison.Ordinal) && !path.Contains('/', StringComparison.Ordinal))
        {
            path = "library/" + path;
        }

        return (domain, path);
    }
}
