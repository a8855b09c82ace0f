using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// The simulated container registry: a catalogue (image → size, digest, private, architectures) and fault injection
/// (missing images, slow registries, flaky pulls). Answers with containerd's own error wording so that callers
/// see what a kubelet shows.
/// </summary>
public sealed class ImageRegistry
{
    private readonly ConcurrentDictionary<string, RegistryImage> _images = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _missing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _slow = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _flaky = new(StringComparer.Ordinal);

    /// <summary>Images not in the catalogue pull as public images of <see cref="DefaultSizeBytes"/> (true) or are not found (false).</summary>
    public bool AllowUnknownImages { get; set; } = true;

    public long DefaultSizeBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>
    /// Adds an image to the catalogue under its normalised tag and its digest. Without a digest, the image gets one
    /// computed from its catalogue entry (<see cref="ContentDigest"/>), the same on every node and every run.
    /// </summary>
    public void Add(RegistryImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var reference = ImageReference.TryParse(image.Reference) ?? throw new ArgumentException($"invalid image reference \"{image.Reference}\"", nameof(image));
        var tagged = $"{reference.Repository}:{reference.Tag ?? "latest"}";
        var stored = image with { Reference = reference.Normalized, Digest = image.Digest ?? reference.Digest ?? ContentDigest(tagged, image.SizeBytes, image.Architectures, image.ExitCode) };
        if (reference.Digest is null || reference.Tag is not null)
        {
            _images[tagged] = stored;
        }

        _images[$"{reference.Repository}@{stored.Digest}"] = stored;
        _missing.TryRemove(reference.Normalized, out _);
    }

    /// <summary>Makes a reference unknown to the registry (a typo or a deleted tag).</summary>
    public void MarkMissing(string reference) => _missing[Normalize(reference)] = 0;

    /// <summary>Pulls of references starting with <paramref name="prefix"/> (after normalisation) take <paramref name="factor"/> times longer.</summary>
    public void SetSlow(string prefix, double factor) => _slow[prefix] = factor;

    /// <summary>How many times longer than its size and the node's bandwidth say a pull of <paramref name="reference"/> takes now (1 when not slowed).</summary>
    public double SlowFactor(string reference)
    {
        var normalized = Normalize(reference);
        return _slow.Where(s => normalized.StartsWith(s.Key, StringComparison.Ordinal)).Select(s => s.Value).DefaultIfEmpty(1.0).Max();
    }

    /// <summary>The next <paramref name="failures"/> pulls of <paramref name="reference"/> fail with a transient error.</summary>
    public void SetFlaky(string reference, int failures) => _flaky[Normalize(reference)] = failures;

    /// <summary>The normalised reference (<c>nginx</c> → <c>docker.io/library/nginx:latest</c>) or the input when invalid.</summary>
    public static string Normalize(string reference) => ImageReference.Normalize(reference);

    public static bool IsValidReference(string reference) => ImageReference.TryParse(reference) is not null;

    /// <summary>
    /// The digest of an image the catalogue describes without one: a sha256 over its catalogue entry (normalised
    /// reference, size, platforms, exit code), so the same image has the same digest on every node and in every run,
    /// and changing what the catalogue says about it changes its digest as a new push would.
    /// </summary>
    public static string ContentDigest(string normalizedReference, long sizeBytes, IReadOnlyList<string>? architectures, int exitCode)
    {
        var entry = string.Join('\n', normalizedReference, sizeBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(',', architectures ?? []), exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(entry))).ToLowerInvariant();
    }

    /// <summary>
    /// What the catalogue holds under <paramref name="reference"/>, as a successful pull would give it, without faults,
    /// credentials or platforms: how a node that already has the image (from an earlier run) knows it again. Null for
    /// an invalid reference or one the registry does not serve.
    /// </summary>
    public PullResult? Describe(string reference)
    {
        if (ImageReference.TryParse(reference) is not { } parsed || _missing.ContainsKey(parsed.Normalized))
        {
            return null;
        }

        _images.TryGetValue(parsed.Digest is not null ? parsed.Normalized : $"{parsed.Repository}:{parsed.Tag ?? "latest"}", out var image);
        if (image is null && !AllowUnknownImages)
        {
            return null;
        }

        image ??= new RegistryImage(parsed.Normalized, DefaultSizeBytes, parsed.Digest ?? ContentDigest(parsed.Normalized, DefaultSizeBytes, null, 0));
        return new PullResult(true, "", "", parsed.Repository, image.Digest!, image.SizeBytes, 1.0) { ExitCode = image.ExitCode };
    }

    /// <summary>Resolves a pull of <paramref name="reference"/> for a node of <paramref name="architecture"/> holding credentials for <paramref name="credentialHosts"/>.</summary>
    public PullResult Resolve(string reference, string architecture, IReadOnlySet<string> credentialHosts)
    {
        ArgumentNullException.ThrowIfNull(credentialHosts);
        if (ImageReference.TryParse(reference) is not { } parsed)
        {
            return Fail("InvalidImageName", $"Failed to apply default image tag \"{reference}\": couldn't parse image reference \"{reference}\": invalid reference format", "", "");
        }

        var normalized = parsed.Normalized;
        var repository = parsed.Repository;
        var slow = SlowFactor(normalized);
        if (_flaky.TryGetValue(normalized, out var remaining) && remaining > 0)
        {
            _flaky[normalized] = remaining - 1;
            return Fail("ErrImagePull", $"rpc error: code = Unavailable desc = failed to pull and unpack image \"{normalized}\": failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://{parsed.RegistryHost}/v2/\": read tcp: connection reset by peer", repository, "");
        }

        _images.TryGetValue(parsed.Digest is not null ? normalized : $"{repository}:{parsed.Tag ?? "latest"}", out var image);
        if (_missing.ContainsKey(normalized) || (image is null && !AllowUnknownImages))
        {
            return Fail("ErrImagePull", $"rpc error: code = NotFound desc = failed to pull and unpack image \"{normalized}\": failed to resolve reference \"{normalized}\": {normalized}: not found", repository, "");
        }

        image ??= new RegistryImage(normalized, DefaultSizeBytes, parsed.Digest ?? ContentDigest(normalized, DefaultSizeBytes, null, 0));
        if (image.Private && !credentialHosts.Contains(parsed.Domain))
        {
            return Fail("ErrImagePull", $"rpc error: code = Unknown desc = failed to pull and unpack image \"{normalized}\": failed to resolve reference \"{normalized}\": pulling from host {parsed.RegistryHost} failed with status code [manifests {parsed.ManifestReference}]: 401 Unauthorized", repository, "");
        }

        if (image.Architectures is { Count: > 0 } architectures && !architectures.Contains(architecture, StringComparer.Ordinal))
        {
            return Fail("ErrImagePull", $"rpc error: code = NotFound desc = failed to pull and unpack image \"{normalized}\": no match for platform in manifest: not found", repository, "");
        }

        return new PullResult(true, "", "", repository, image.Digest!, image.SizeBytes, slow) { ExitCode = image.ExitCode };
    }

    private static PullResult Fail(string reason, string message, string repository, string digest) =>
        new(false, reason, message, repository, digest, 0, 1.0);
}
