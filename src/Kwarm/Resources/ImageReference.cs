namespace Kwarm.Resources;

/// <summary>Splits container image references (<c>[registry[:port]/]path[:tag][@digest]</c>) without a registry round trip.</summary>
public static class ImageReference
{
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
}
