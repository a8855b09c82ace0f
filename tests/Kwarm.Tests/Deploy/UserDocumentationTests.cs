using System.Text.RegularExpressions;
using Kwarm.Resources;

namespace Kwarm.Tests.Deploy;

/// <summary>What docs/ tells users to type refers to things that exist and say what the manifests do.</summary>
public sealed partial class UserDocumentationTests
{
    /// <summary>README.md and docs/*.md (but the generated benchmark report), as repository-relative paths.</summary>
    public static TheoryData<string> Documents() =>
        new(Directory.GetFiles(Manifests.InRepository("docs"), "*.md").Select(Path.GetFileName).Where(name => name != "benchmarks.md")
            .Select(name => "docs/" + name).Prepend("README.md"));

    [Theory]
    [MemberData(nameof(Documents))]
    public void Repository_paths_and_relative_links_exist(string document)
    {
        var text = File.ReadAllText(Manifests.InRepository(document.Split('/')));

        foreach (Match match in RepositoryPath().Matches(text))
        {
            var path = match.Value.TrimEnd('.', ',', ')', ':');
            if (path.StartsWith("certs/dev", StringComparison.Ordinal))
            {
                continue; // written by certs/make-dev-certs.sh, git-ignored
            }

            Assert.True(File.Exists(Manifests.InRepository(path)) || Directory.Exists(Manifests.InRepository(path)), $"{document} names {path}, which does not exist");
        }

        var directory = Path.GetDirectoryName(Manifests.InRepository(document.Split('/')))!;
        foreach (Match match in RelativeLink().Matches(text))
        {
            var file = match.Groups["file"].Value;
            var target = file.Length == 0 ? Manifests.InRepository(document.Split('/')) : Path.GetFullPath(Path.Combine(directory, file));
            Assert.True(File.Exists(target), $"{document} links to {file}, which does not exist");
            if (match.Groups["anchor"].Success)
            {
                var anchors = ReadmeTests.Headings(File.ReadAllText(target)).Select(Anchor).ToList();
                Assert.True(anchors.Contains(match.Groups["anchor"].Value), $"{document} links to {file}#{match.Groups["anchor"].Value}, which is no heading there (headings: {string.Join(", ", anchors)})");
            }
        }
    }

    [Fact]
    public void Link_check_sees_links_to_pages_anchors_and_the_readme()
    {
        var links = RelativeLink().Matches("[a](install.md#uninstalling) [b](../README.md#flags) [c](#flags) [d](docs/gitops.md) [e](https://x.io/a.md)")
            .Select(match => (match.Groups["file"].Value, match.Groups["anchor"].Value)).ToList();

        Assert.Equal([("install.md", "uninstalling"), ("../README.md", "flags"), ("", "flags"), ("docs/gitops.md", "")], links);
        Assert.Equal("without-cert-manager", Anchor("### Without cert-manager"));
        Assert.Equal("argo-cd-and-flux", Anchor("## Argo CD and Flux"));
        Assert.Equal("annotations-and-labels-on-deployments", Anchor("### Annotations and labels on Deployments"));
    }

    /// <summary>The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static string Anchor(string heading)
    {
        var text = heading.TrimStart('#').Trim().ToLowerInvariant();
        return new string(text.Where(character => char.IsLetterOrDigit(character) || character is ' ' or '-' or '_').ToArray()).Replace(' ', '-');
    }

    /// <summary>The quick start and the release by hand live in the README (<see cref="ReadmeTests"/>); install.md keeps the depth.</summary>
    [Fact]
    public void Install_and_troubleshooting_are_written()
    {
        foreach (var document in new[] { "install.md", "configuration.md", "gitops.md", "troubleshooting.md", "architecture.md" })
        {
            Assert.True(File.Exists(Manifests.InRepository("docs", document)), document);
        }

        var install = File.ReadAllText(Manifests.InRepository("docs", "install.md"));
        Assert.Contains("helm install kwarm deploy/charts/kwarm", install, StringComparison.Ordinal);
        Assert.Contains("kubectl apply --server-side -k deploy/kustomize/default", install, StringComparison.Ordinal);
        Assert.Contains("certs/make-dev-certs.sh", install, StringComparison.Ordinal);
        Assert.Contains("helm uninstall", install, StringComparison.Ordinal);
        Assert.Contains("sh deploy/charts/kwarm/files/release-holds.sh", install, StringComparison.Ordinal);
        Assert.Contains("](../README.md#quick-start)", install, StringComparison.Ordinal);

        var troubleshooting = File.ReadAllText(Manifests.InRepository("docs", "troubleshooting.md"));
        Assert.Contains($"kubectl annotate deployment web {KwarmApi.ReleaseAnnotation}=true", troubleshooting, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_overlay_example_patches_the_tools_image_argument()
    {
        var install = File.ReadAllText(Manifests.InRepository("docs", "install.md"));
        var index = int.Parse(ArgsPatch().Match(install).Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);

        var container = (await Manifests.KustomizeDefaultAsync()).Single("Deployment", "kwarm")["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.StartsWith("--tools-image=", Manifests.Str(container["args"]![index]), StringComparison.Ordinal);
    }

    [Fact]
    public void Gitops_guide_ignores_every_field_the_webhook_and_the_release_write()
    {
        var gitops = File.ReadAllText(Manifests.InRepository("docs", "gitops.md"));
        var pointers = new[] { KwarmApi.HoldAnnotation, KwarmApi.PolicyAnnotation, KwarmApi.ReleasedAnnotation }
            .Select(annotation => "/metadata/annotations/" + annotation.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal))
            .Append("/spec/paused")
            .ToList();

        // Three lists: the Argo CD Application, argocd-cm, and the Flux HelmRelease.
        foreach (var pointer in pointers)
        {
            Assert.Equal(3, Regex.Count(gitops, "- " + Regex.Escape(pointer) + "\\n"));
        }

        Assert.Contains("RespectIgnoreDifferences=true", gitops, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?<![\w/.-])(?:deploy|certs|src|tests)/[A-Za-z0-9_./-]*[A-Za-z0-9_]")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex(@"\]\((?<file>(?:\.\./|[a-z-]+/)*[A-Za-z-]+\.md)?(?:#(?<anchor>[a-z0-9-]+))?\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"path: /spec/template/spec/containers/0/args/(?<index>[0-9]+)")]
    private static partial Regex ArgsPatch();
}
