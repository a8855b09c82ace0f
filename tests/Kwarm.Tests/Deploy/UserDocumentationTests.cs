using System.Text.RegularExpressions;
using Kwarm.Resources;

namespace Kwarm.Tests.Deploy;

/// <summary>What docs/ tells users to type refers to things that exist and say what the manifests do.</summary>
public sealed partial class UserDocumentationTests
{
    public static TheoryData<string> Documents() =>
        new(Directory.GetFiles(Manifests.InRepository("docs"), "*.md").Select(Path.GetFileName).Where(name => name != "benchmarks.md")!);

    [Theory]
    [MemberData(nameof(Documents))]
    public void Repository_paths_and_relative_links_exist(string document)
    {
        var text = File.ReadAllText(Manifests.InRepository("docs", document));

        foreach (Match match in RepositoryPath().Matches(text))
        {
            var path = match.Value.TrimEnd('.', ',', ')', ':');
            if (path.StartsWith("certs/dev", StringComparison.Ordinal))
            {
                continue; // written by certs/make-dev-certs.sh, git-ignored
            }

            Assert.True(File.Exists(Manifests.InRepository(path)) || Directory.Exists(Manifests.InRepository(path)), $"{document} names {path}, which does not exist");
        }

        foreach (Match match in RelativeLink().Matches(text))
        {
            Assert.True(File.Exists(Manifests.InRepository("docs", match.Groups["file"].Value)), $"{document} links to {match.Groups["file"].Value}, which does not exist");
        }
    }

    [Fact]
    public void Install_and_troubleshooting_are_written()
    {
        foreach (var document in new[] { "install.md", "configuration.md", "gitops.md", "troubleshooting.md", "architecture.md" })
        {
            Assert.True(File.Exists(Manifests.InRepository("docs", document)), document);
        }

        var install = File.ReadAllText(Manifests.InRepository("docs", "install.md"));
        foreach (var sample in Directory.GetFiles(Manifests.InRepository("deploy", "samples"), "*.yaml").Select(Path.GetFileName).Where(name => name != "kustomization.yaml"))
        {
            Assert.Contains($"deploy/samples/{sample}", install, StringComparison.Ordinal);
        }

        Assert.Contains("helm uninstall", install, StringComparison.Ordinal);
        Assert.Contains("sh deploy/charts/kwarm/files/release-holds.sh", install, StringComparison.Ordinal);
        Assert.Contains($"kubectl annotate deployment web {KwarmApi.ReleaseAnnotation}=true", install, StringComparison.Ordinal);
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

    [GeneratedRegex(@"\]\((?<file>[a-z-]+\.md)(#[a-z0-9-]+)?\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"path: /spec/template/spec/containers/0/args/(?<index>[0-9]+)")]
    private static partial Regex ArgsPatch();
}
