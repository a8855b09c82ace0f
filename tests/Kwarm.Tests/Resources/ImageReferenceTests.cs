using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>
/// Kwarm's check of image references and the CRD's <c>spec.image</c> pattern give the same answer for real-world
/// references: the pattern is compiled here with .NET's engine, which agrees with Go's RE2 for the constructs it uses
/// (ASCII classes, groups, bounded repetition, no look-around), and also run through the CRD's whole schema.
/// </summary>
public sealed class ImageReferenceTests
{
    private static readonly string Sha256 = new('a', 64);
    private static readonly string Sha512 = new('0', 128);

    private static Regex CrdPattern(string path) =>
        new(OpenApiSchemaConverter.EndAnchorAsInGo(CrdDefinitionTests.DurationPattern(CustomResourceDefinitionFile.PrePullImage, path)));

    [Theory]
    // Docker Hub, official and user images.
    [InlineData("nginx", true)]
    [InlineData("nginx:1.27.1", true)]
    [InlineData("nginx:latest", true)]
    [InlineData("library/nginx:1.27-alpine", true)]
    [InlineData("docker.io/library/nginx:1.27.1", true)]
    [InlineData("bitnami/postgresql:16.4.0-debian-12-r0", true)]
    [InlineData("team/app", true)]
    // Registries with dots, ports, IPs, localhost, upper case hosts, deep paths.
    [InlineData("registry.k8s.io/pause:3.9", true)]
    [InlineData("gcr.io/distroless/static:nonroot", true)]
    [InlineData("ghcr.io/fluxcd/source-controller:v1.4.1", true)]
    [InlineData("quay.io/prometheus/node-exporter:v1.8.2", true)]
    [InlineData("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:2.0", true)]
    [InlineData("myregistry.azurecr.io/samples/hello-world:v1", true)]
    [InlineData("europe-docker.pkg.dev/project/repo/image:tag", true)]
    [InlineData("localhost:5000/app:dev", true)]
    [InlineData("registry.local:5000/team/app:1.4.2", true)]
    [InlineData("10.0.0.5:5000/app:1", true)]
    [InlineData("[fd00::1]:5000/app:1", true)]
    [InlineData("Registry.Example.COM/team/app:1", true)]
    [InlineData("registry.example.com/a/b/c/d/e:1", true)]
    // Path separators: '.', '_', '__', runs of '-'.
    [InlineData("my.org/my_app__v2/some--thing:1", true)]
    [InlineData("a-b---c/d_e.f:1", true)]
    // Tags: up to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'.
    [InlineData("app:V1.2_RC-3", true)]
    [InlineData("app:_private", true)]
    // Digests, with and without a tag.
    [InlineData("nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000", true)]
    [InlineData("docker.io/library/nginx:1.27.1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)]
    [InlineData("registry.local:5000/app@sha512:00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", true)]
    // Invalid: what the kubelet refuses with InvalidImageName.
    [InlineData("", false)]
    [InlineData(" ", false)]
    [InlineData("nginx:", false)]
    [InlineData("UPPER/Case Image::tag@@sha", false)]
    [InlineData("Nginx", false)]
    [InlineData("team/App:1", false)]
    [InlineData("nginx latest", false)]
    [InlineData(" nginx", false)]
    [InlineData("nginx ", false)]
    [InlineData("nginx\n", false)]
    [InlineData("nginx::1", false)]
    [InlineData("nginx:1:2", false)]
    [InlineData("nginx:.hidden", false)]
    [InlineData("nginx:-dash", false)]
    [InlineData("nginx@", false)]
    [InlineData("nginx@sha256:abc", false)]
    [InlineData("nginx@md5:d41d8cd98f00b204e9800998ecf8427e", false)]
    [InlineData("nginx@sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("nginx@@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("/nginx", false)]
    [InlineData("nginx/", false)]
    [InlineData("team//app", false)]
    [InlineData("-team/app", false)]
    [InlineData("team/app-", false)]
    [InlineData("team/.app", false)]
    [InlineData("team/a...b", false)]
    [InlineData("team/a___b", false)]
    [InlineData("registry.local:port/app", false)]
    [InlineData("registry..local/app", false)]
    [InlineData("-registry.local/app", false)]
    [InlineData("https://registry.local/app", false)]
    [InlineData("registry.local/app:1.0?x=1", false)]
    [InlineData("app:é", false)]
    [InlineData("nginx:1.27.1\u0000", false)]
    public void Kwarm_and_the_crd_pattern_agree_on_real_world_references(string reference, bool valid)
    {
        var instance = Samples.Read(Samples.ManualImage);
        JsonTree.Set(instance, "spec.image", reference);

        Assert.Equal(valid, ImageReference.IsValid(reference));
        Assert.Equal(valid, CrdPattern("spec.image").IsMatch(reference));
        Assert.Equal(valid, CustomResourceDefinitionFile.PrePullImage.Validate(instance).Count == 0);
    }

    [Fact]
    public void A_tag_has_at_most_128_characters()
    {
        var longest = "app:" + new string('t', 128);
        var tooLong = "app:" + new string('t', 129);

        Assert.True(ImageReference.IsValid(longest));
        Assert.Matches(CrdPattern("spec.image"), longest);
        Assert.False(ImageReference.IsValid(tooLong));
        Assert.DoesNotMatch(CrdPattern("spec.image"), tooLong);
    }

    [Fact]
    public void A_reference_longer_than_512_characters_is_refused_by_both_with_the_schema_naming_the_bound()
    {
        var reference = "registry.example.com/" + new string('a', 4979);
        var instance = Samples.Read(Samples.ManualImage);
        JsonTree.Set(instance, "spec.image", reference);

        Assert.Equal(5000, reference.Length);
        Assert.Equal("an image reference is at most 512 characters, this one has 5000", ImageReference.Describe(reference));
        var error = Assert.Single(CustomResourceDefinitionFile.PrePullImage.Validate(instance));
        Assert.StartsWith("spec.image: ", error, StringComparison.Ordinal);
        Assert.Equal(ImageReference.MaxLength, CustomResourceDefinitionFile.PrePullImage.OpenApiSchema["properties"]!["spec"]!["properties"]!["image"]!["maxLength"]!.GetValue<int>());
    }

    /// <summary>
    /// The distribution parser's own rules that a regular expression cannot say: the kubelet refuses these, so Kwarm
    /// does too, although the schema lets them through (the pull then fails on the node instead of never starting).
    /// </summary>
    [Fact]
    public void Kwarm_also_refuses_a_name_over_255_characters_and_a_bare_image_id()
    {
        var longName = "registry.example.com/" + new string('a', 240);
        var imageId = new string('f', 64);

        Assert.Matches(CrdPattern("spec.image"), longName);
        Assert.Contains("at most 255 characters", ImageReference.Describe(longName), StringComparison.Ordinal);
        Assert.Matches(CrdPattern("spec.image"), imageId);
        Assert.Contains("image ID", ImageReference.Describe(imageId), StringComparison.Ordinal);
        Assert.True(ImageReference.IsValid(imageId + ":1"));
    }

    [Theory]
    [InlineData("sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)]
    [InlineData("sha384:000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", true)]
    [InlineData("md5:abc", false)]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e", false)]
    [InlineData("sha256:abc", false)]
    [InlineData("sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("", false)]
    public void Kwarm_and_the_crd_pattern_agree_on_digests(string digest, bool valid)
    {
        var instance = Samples.Read(Samples.ManualImage);
        JsonTree.Set(instance, "spec.imageDigest", digest);

        Assert.Equal(valid, ImageReference.DescribeDigest(digest) is null);
        Assert.Equal(valid, CrdPattern("spec.imageDigest").IsMatch(digest));
        Assert.Equal(valid, CustomResourceDefinitionFile.PrePullImage.Validate(instance).Count == 0);
    }

    [Fact]
    public void A_digest_pins_the_repository_and_keeps_the_registry_port()
    {
        var spec = new PrePullImageSpec { Image = "registry.local:5000/team/app:1.2", ImageDigest = "sha256:" + Sha256 };

        Assert.Equal("registry.local:5000/team/app@sha256:" + Sha256, spec.PullReference);
        Assert.True(ImageReference.IsValid(spec.PullReference));
        Assert.True(ImageReference.IsValid("app@sha512:" + Sha512));
    }

    [Fact]
    public void The_yaml_patterns_are_the_ones_ImageReference_documents()
    {
        var spec = CustomResourceDefinitionFile.PrePullImage.OpenApiSchema["properties"]!["spec"]!["properties"]!.AsObject();

        Assert.Equal(ImageReference.Pattern, Pattern(spec["image"]));
        Assert.Equal(ImageReference.DigestPattern, Pattern(spec["imageDigest"]));
        Assert.Equal(ImageReference.DigestMaxLength, spec["imageDigest"]!["maxLength"]!.GetValue<int>());
    }

    private static string? Pattern(JsonNode? field) => field?["pattern"]?.GetValue<string>();
}
