using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>The simulator's own reading of image references: the names a containerd node reports.</summary>
public sealed class ImageReferenceTests
{
    private const string Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    [Theory]
    [InlineData("nginx", "docker.io/library/nginx:latest")]
    [InlineData("nginx:1.27.1", "docker.io/library/nginx:1.27.1")]
    [InlineData("team/app", "docker.io/team/app:latest")]
    [InlineData("bitnami/redis:7", "docker.io/bitnami/redis:7")]
    [InlineData("docker.io/nginx:1", "docker.io/library/nginx:1")]
    [InlineData("index.docker.io/library/nginx:1", "docker.io/library/nginx:1")]
    [InlineData("docker.io/library/nginx:1.27.1", "docker.io/library/nginx:1.27.1")]
    [InlineData("localhost/app", "localhost/app:latest")]
    [InlineData("localhost:5000/app:2", "localhost:5000/app:2")]
    [InlineData("registry.local:5000/shop/web:1.1", "registry.local:5000/shop/web:1.1")]
    [InlineData("ghcr.io/org/team/tool:v1.0_rc-1", "ghcr.io/org/team/tool:v1.0_rc-1")]
    [InlineData("registry.local/proxy@" + Digest, "registry.local/proxy@" + Digest)]
    [InlineData("nginx:1.27@" + Digest, "docker.io/library/nginx@" + Digest)]
    [InlineData("nginx@" + Digest, "docker.io/library/nginx@" + Digest)]
    public void References_normalise_like_containerd(string reference, string normalized)
    {
        Assert.Equal(normalized, ImageReference.Normalize(reference));
        Assert.Equal(normalized, ImageRegistry.Normalize(reference));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Registry.Local/UPPER:1")]
    [InlineData("nginx:")]
    [InlineData("nginx:-bad")]
    [InlineData("nginx@sha256:short")]
    [InlineData("shop//web")]
    [InlineData("-registry.local/web")]
    [InlineData("web:1:2")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Invalid_references_are_refused(string reference)
    {
        Assert.Null(ImageReference.TryParse(reference));
        Assert.Equal(reference, ImageReference.Normalize(reference));
    }

    [Fact]
    public void A_reference_splits_into_registry_repository_tag_and_digest()
    {
        var pinned = ImageReference.TryParse("nginx:1.27@" + Digest)!;
        Assert.Equal(("docker.io", "library/nginx", "1.27", Digest), (pinned.Domain, pinned.Path, pinned.Tag, pinned.Digest));
        Assert.Null(pinned.TagReference);
        Assert.Equal("registry-1.docker.io", pinned.RegistryHost);
        Assert.Equal("docker.io/library/nginx:latest", ImageReference.TryParse("nginx")!.TagReference);
        Assert.Equal("registry.local:5000", ImageReference.TryParse("registry.local:5000/web")!.RegistryHost);
    }

    [Fact]
    public void Digests_follow_the_catalogue_entry_and_nothing_else()
    {
        var first = new ImageRegistry();
        var second = new ImageRegistry();
        first.Add(new RegistryImage("nginx:1.27.1", 70_000_000));
        second.Add(new RegistryImage("docker.io/library/nginx:1.27.1", 70_000_000));
        var none = new HashSet<string>();
        var pulled = first.Resolve("nginx:1.27.1", "amd64", none);
        Assert.Equal(pulled.Digest, second.Resolve("docker.io/library/nginx:1.27.1", "amd64", none).Digest);
        Assert.Equal(ImageRegistry.ContentDigest("docker.io/library/nginx:1.27.1", 70_000_000, null, 0), pulled.Digest);
        Assert.Equal("docker.io/library/nginx@" + pulled.Digest, pulled.ImageId);

        // Another push under the same tag (a different size) is another image with another digest.
        second.Add(new RegistryImage("nginx:1.27.1", 71_000_000));
        Assert.NotEqual(pulled.Digest, second.Resolve("nginx:1.27.1", "amd64", none).Digest);

        // Unknown images pull with a digest of their own too, the same every time.
        Assert.Equal(first.Resolve("team/app", "amd64", none).Digest, new ImageRegistry().Resolve("docker.io/team/app:latest", "amd64", none).Digest);
    }
}
