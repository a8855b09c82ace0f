using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>Image identity over references as people write them and as containerd reports them (DESIGN §1, §10).</summary>
public sealed class ImageIdentityTests
{
    private const string Digest = "sha256:0e1e0ca09d8d3b4e7e67b6c4a3e2f6aab0d1c8b57d0c7b3d8e9b1a4c2f5e6d7a";

    [Theory]
    [InlineData("nginx", "docker.io", "library/nginx", "latest", null, "docker.io/library/nginx:latest")]
    [InlineData("nginx:1.27.1", "docker.io", "library/nginx", "1.27.1", null, "docker.io/library/nginx:1.27.1")]
    [InlineData("docker.io/library/nginx:1.27.1", "docker.io", "library/nginx", "1.27.1", null, "docker.io/library/nginx:1.27.1")]
    [InlineData("index.docker.io/library/nginx:1.27.1", "docker.io", "library/nginx", "1.27.1", null, "docker.io/library/nginx:1.27.1")]
    [InlineData("docker.io/nginx", "docker.io", "library/nginx", "latest", null, "docker.io/library/nginx:latest")]
    [InlineData("team/app", "docker.io", "team/app", "latest", null, "docker.io/team/app:latest")]
    [InlineData("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", null, "docker.io/bitnami/redis:7.2")]
    [InlineData("localhost/app:dev", "localhost", "app", "dev", null, "localhost/app:dev")]
    [InlineData("localhost:5000/team/app", "localhost:5000", "team/app", "latest", null, "localhost:5000/team/app:latest")]
    [InlineData("registry.k8s.io/pause:3.9", "registry.k8s.io", "pause", "3.9", null, "registry.k8s.io/pause:3.9")]
    [InlineData("ghcr.io/kwarm-io/kwarm:v0.1.0", "ghcr.io", "kwarm-io/kwarm", "v0.1.0", null, "ghcr.io/kwarm-io/kwarm:v0.1.0")]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:2.0", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "shop/web", "2.0", null, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:2.0")]
    [InlineData("Registry.Example.com/team/app:1", "Registry.Example.com", "team/app", "1", null, "Registry.Example.com/team/app:1")]
    [InlineData("quay.io/prometheus/node-exporter:v1.8.2", "quay.io", "prometheus/node-exporter", "v1.8.2", null, "quay.io/prometheus/node-exporter:v1.8.2")]
    [InlineData("[::1]:5000/app:1", "[::1]:5000", "app", "1", null, "[::1]:5000/app:1")]
    [InlineData("nginx@" + Digest, "docker.io", "library/nginx", null, Digest, "docker.io/library/nginx@" + Digest)]
    [InlineData("nginx:1.27.1@" + Digest, "docker.io", "library/nginx", "1.27.1", Digest, "docker.io/library/nginx:1.27.1@" + Digest)]
    public void References_normalise_as_containerd_reports_them(string reference, string domain, string path, string? tag, string? digest, string canonical)
    {
        var identity = ImageIdentity.Parse(reference);

        Assert.Equal((domain, path, tag, digest), (identity.Domain, identity.Path, identity.Tag, identity.Digest));
        Assert.Equal(canonical, identity.Canonical);
        Assert.Equal(identity, ImageIdentity.Parse(identity.Canonical));
    }

    [Theory]
    [InlineData("")]
    [InlineData("nginx:")]
    [InlineData("UPPER/Case Image::tag@@sha")]
    [InlineData("team/App:1")]
    [InlineData("nginx@md5:abc")]
    [InlineData("nginx:1.27.1@sha256:abc")]
    [InlineData("-nginx")]
    [InlineData("0e1e0ca09d8d3b4e7e67b6c4a3e2f6aab0d1c8b57d0c7b3d8e9b1a4c2f5e6d7a")]
    public void Unparsable_references_say_why(string reference)
    {
        Assert.False(ImageIdentity.TryParse(reference, out var identity, out var error));
        Assert.Null(identity);
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Throws<FormatException>(() => ImageIdentity.Parse(reference));
        Assert.Equal(reference, ImageIdentity.CanonicalOrSelf(reference));
    }

    [Fact]
    public void A_digest_pinned_reference_is_reported_as_repo_at_digest_whatever_its_tag()
    {
        Assert.Equal("docker.io/library/nginx@" + Digest, ImageIdentity.Parse("nginx:1.27.1@" + Digest).Reference);
        Assert.Equal("docker.io/library/nginx:1.27.1", ImageIdentity.Parse("nginx:1.27.1").Reference);
        Assert.Equal("docker.io/library/nginx@" + Digest, ImageIdentity.Parse("nginx:1.27.1").WithDigest(Digest).Reference);
    }

    [Fact]
    public void A_node_holds_an_image_listed_by_its_normalised_tag_or_by_its_repo_digest()
    {
        string[] containerd = ["docker.io/library/nginx:1.27.1", "docker.io/library/nginx@" + Digest];

        Assert.True(ImageIdentity.Parse("nginx:1.27.1").IsListedIn(containerd));
        Assert.True(ImageIdentity.Parse("docker.io/library/nginx:1.27.1").IsListedIn(containerd));
        Assert.True(ImageIdentity.Parse("nginx@" + Digest).IsListedIn(containerd));
        Assert.True(ImageIdentity.Parse("nginx:1.26.0@" + Digest).IsListedIn(containerd));
        Assert.False(ImageIdentity.Parse("nginx:1.27.2").IsListedIn(containerd));
        Assert.False(ImageIdentity.Parse("nginx").IsListedIn(containerd));
        Assert.False(ImageIdentity.Parse("mirror.local/library/nginx:1.27.1").IsListedIn(containerd));
        // A runtime (or a simulator) that lists names as written still counts.
        Assert.True(ImageIdentity.Parse("docker.io/library/nginx:1.27.1").IsListedIn(["nginx:1.27.1"]));
    }
}
