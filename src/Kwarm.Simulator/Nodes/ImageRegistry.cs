using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Kwarm.Simulator.Nodes;

/// <summary>One image the simulated registry serves.</summary>
/// <remarks><see cref="ExitCode"/> is what a container of this image exits with when it runs to completion (a crashing job).</remarks>
public sealed record RegistryImage(string Reference, long SizeBytes, string? Digest = null, bool Private = false, IReadOnlyList<string>? Architectures = null, int ExitCode = 0);

/// <summary>What a pull of one reference on one node comes to.</summary>
public sealed record PullResult(bool Succeeded, string Reason, string Message, string Repository, string Digest, long SizeBytes, double SlowFactor)
{
    public int ExitCode { get; init; }

    public string ImageId => $"{Repository}@{Digest}";
}

/// <summary>
/// The simulated container registry: a catalogue (image → size, digest, private, architectures) and fault injection
/// (missing images, slow registries, flaky pulls). Answers with containerd's own error wording so that callers
/// see what a kubelet shows.
/// </summary>
public sealed partial class ImageRegistry
{
    private readonly ConcurrentDictionary<string, RegistryImage> _images = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _missing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _slow = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _flaky = new(StringComparer.Ordinal);

    /// <summary>Images not in the catalogue pull as public images of <see cref="DefaultSizeBytes"/> (true) or are not found (false).</summary>
    public bool AllowUnknownImages { get; set; } = true;

    public long DefaultSizeBytes { get; set; } = 50L * 1024 * 1024;

    public void Add(RegistryImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (repository, tag, digest) = Parse(image.Reference) ?? throw new ArgumentException($"invalid image reference \"{image.Reference}\"", nameof(image));
        var stored = image with { Digest = image.Digest ?? digest ?? SyntheticDigest(repository + ":" + tag) };
        _images[$"{repository}:{tag ?? "latest"}"] = stored;
        _images[$"{repository}@{stored.Digest}"] = stored;
        _missing.TryRemove(Normalize(image.Reference), out _);
    }

    /// <summary>Makes a reference unknown to the registry (a typo or a deleted tag).</summary>
    public void MarkMissing(string reference) => _missing[Normalize(reference)] = 0;

    /// <summary>Pulls of references starting with <paramref name="prefix"/> (after normalisation) take <paramref name="factor"/> times longer.</summary>
    public void SetSlow(string prefix, double factor) => _slow[prefix] = factor;

    /// <summary>The next <paramref name="failures"/> pulls of <paramref name="reference"/> fail with a transient error.</summary>
    public void SetFlaky(string reference, int failures) => _flaky[Normalize(reference)] = failures;

    /// <summary>The normalised reference (<c>nginx</c> → <c>docker.io/library/nginx:latest</c>) or the input when invalid.</summary>
    public static string Normalize(string reference)
    {
        var parsed = Parse(reference);
        if (parsed is not { } p)
        {
            return reference;
        }

        return p.Digest is not null && p.Tag is null ? $"{p.Repository}@{p.Digest}" : $"{p.Repository}:{p.Tag ?? "latest"}";
    }

    /// <summary>The names a kubelet lists for a pulled image in node status.images.</summary>
    public static IReadOnlyList<string> StatusNames(PullResult pull, string reference)
    {
        ArgumentNullException.ThrowIfNull(pull);
        var names = new List<string> { pull.ImageId };
        var normalized = Normalize(reference);
        if (!normalized.Contains('@', StringComparison.Ordinal))
        {
            names.Add(normalized);
        }

        return names;
    }

    public static bool IsValidReference(string reference) => Parse(reference) is not null;

    /// <summary>Resolves a pull of <paramref name="reference"/> for a node of <paramref name="architecture"/> holding credentials for <paramref name="credentialHosts"/>.</summary>
    public PullResult Resolve(string reference, string architecture, IReadOnlySet<string> credentialHosts)
    {
        ArgumentNullException.ThrowIfNull(credentialHosts);
        var parsed = Parse(reference);
        if (parsed is not { } p)
        {
            return Fail("InvalidImageName", $"Failed to apply default image tag \"{reference}\": couldn't parse image reference \"{reference}\": invalid reference format", "", "");
        }

        var normalized = Normalize(reference);
        var host = p.Repository.Split('/')[0];
        var slow = _slow.Where(s => normalized.StartsWith(s.Key, StringComparison.Ordinal)).Select(s => s.Value).DefaultIfEmpty(1.0).Max();
        if (_flaky.TryGetValue(normalized, out var remaining) && remaining > 0)
        {
            _flaky[normalized] = remaining - 1;
            return Fail("ErrImagePull", $"rpc error: code = Unavailable desc = failed to pull and unpack image \"{normalized}\": failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://{host}/v2/\": read tcp: connection reset by peer", p.Repository, "");
        }

        RegistryImage? image = null;
        if (p.Digest is not null)
        {
            _images.TryGetValue($"{p.Repository}@{p.Digest}", out image);
        }
        else
        {
            _images.TryGetValue($"{p.Repository}:{p.Tag ?? "latest"}", out image);
        }

        if (_missing.ContainsKey(normalized) || (image is null && !AllowUnknownImages))
        {
            return Fail("ErrImagePull", $"rpc error: code = NotFound desc = failed to pull and unpack image \"{normalized}\": failed to resolve reference \"{normalized}\": {normalized}: not found", p.Repository, "");
        }

        image ??= new RegistryImage(normalized, DefaultSizeBytes, p.Digest ?? SyntheticDigest(normalized));
        if (image.Private && !credentialHosts.Contains(host))
        {
            return Fail("ErrImagePull", $"rpc error: code = Unknown desc = failed to pull and unpack image \"{normalized}\": failed to resolve reference \"{normalized}\": pulling from host {host} failed with status code [manifests {p.Tag ?? p.Digest}]: 401 Unauthorized", p.Repository, "");
        }

        if (image.Architectures is { Count: > 0 } architectures && !architectures.Contains(architecture, StringComparer.Ordinal))
        {
            return Fail("ErrImagePull", $"rpc error: code = NotFound desc = failed to pull and unpack image \"{normalized}\": no match for platform in manifest: not found", p.Repository, "");
        }

        return new PullResult(true, "", "", p.Repository, image.Digest ?? SyntheticDigest(normalized), image.SizeBytes, slow) { ExitCode = image.ExitCode };
    }

    private static PullResult Fail(string reason, string message, string repository, string digest) =>
        new(false, reason, message, repository, digest, 0, 1.0);

    private static string SyntheticDigest(string reference) =>
        "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(reference))).ToLowerInvariant();

    /// <summary>Splits a reference into (repository with registry host, tag, digest); null when invalid.</summary>
    internal static (string Repository, string? Tag, string? Digest)? Parse(string reference)
    {
        if (string.IsNullOrEmpty(reference) || reference.Length > 4096)
        {
            return null;
        }

        var match = ReferencePattern().Match(reference);
        if (!match.Success)
        {
            return null;
        }

        var name = match.Groups["name"].Value;
        var tag = match.Groups["tag"].Success ? match.Groups["tag"].Value : null;
        var digest = match.Groups["digest"].Success ? match.Groups["digest"].Value : null;
        var first = name.Split('/')[0];
        var hasHost = name.Contains('/', StringComparison.Ordinal) && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost");
        var repository = hasHost ? name : name.Contains('/', StringComparison.Ordinal) ? $"docker.io/{name}" : $"docker.io/library/{name}";
        return (repository, tag, digest);
    }

    [GeneratedRegex(@"^(?<name>(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$", RegexOptions.CultureInvariant)]
    private static partial Regex ReferencePattern();
}
