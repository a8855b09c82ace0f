using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
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

    /// <summary>
    /// The annotation that records the user's own value, per kind, as the workloads contract (#16) names it; the hold
    /// code's constants for them come with the StatefulSet and DaemonSet webhook.
    /// </summary>
    private static readonly Dictionary<string, string> RecordAnnotation = new(StringComparer.Ordinal)
    {
        ["StatefulSet"] = "kwarm.io/partition",
        ["DaemonSet"] = "kwarm.io/update-strategy",
    };

    /// <summary>The spec field each kind's hold changes, as a JSON Pointer, and the value it holds there (the contract's hold patch).</summary>
    private static readonly Dictionary<string, (string Pointer, string Held)> HeldField = new(StringComparer.Ordinal)
    {
        ["Deployment"] = ("/spec/paused", "true"),
        ["StatefulSet"] = ("/spec/updateStrategy/rollingUpdate/partition", "2147483647"),
        ["DaemonSet"] = ("/spec/updateStrategy", """{"type":"OnDelete"}"""),
    };

    /// <summary>
    /// Each of the guide's three lists (the Argo CD Application, argocd-cm, the Flux HelmRelease) ignores, per kind Kwarm
    /// holds, exactly the spec field the hold changes and every annotation Kwarm writes on it, and nothing else.
    /// </summary>
    [Fact]
    public void Gitops_guide_ignores_every_field_the_webhook_and_the_release_write()
    {
        var gitops = File.ReadAllText(Manifests.InRepository("docs", "gitops.md"));
        var blocks = YamlBlock().Matches(gitops).Select(match => Resources.YamlJson.ReadSingle(match.Groups["body"].Value)).ToList();
        var application = blocks.Single(block => block["kind"]?.GetValue<string>() == "Application")["spec"]!["ignoreDifferences"]!.AsArray()
            .ToDictionary(item => item!["kind"]!.GetValue<string>(), item => Strings(item!["jsonPointers"]));
        var configMap = blocks.Single(block => block["data"]?["resource.customizations.ignoreDifferences.apps_Deployment"] is not null)["data"]!.AsObject()
            .Where(pair => pair.Key.StartsWith("resource.customizations.ignoreDifferences.apps_", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key["resource.customizations.ignoreDifferences.apps_".Length..],
                pair => Strings(Resources.YamlJson.ReadSingle(pair.Value!.GetValue<string>())["jsonPointers"]));
        var helmRelease = blocks.Single(block => block["kind"]?.GetValue<string>() == "HelmRelease")["spec"]!["driftDetection"]!["ignore"]!.AsArray()
            .ToDictionary(item => item!["target"]!["kind"]!.GetValue<string>(), item => Strings(item!["paths"]));

        foreach (var (list, ignored) in new[] { ("Application", application), ("argocd-cm", configMap), ("HelmRelease", helmRelease) })
        {
            Assert.Equal(HeldField.Keys.Order(StringComparer.Ordinal), ignored.Keys.Order(StringComparer.Ordinal));
            foreach (var (kind, pointers) in ignored)
            {
                string[] annotations = [KwarmApi.HoldAnnotation, KwarmApi.PolicyAnnotation, KwarmApi.HoldStartedAnnotation, KwarmApi.ReleasedAnnotation, .. RecordAnnotation.TryGetValue(kind, out var record) ? [record] : Array.Empty<string>()];
                string[] expected = [HeldField[kind].Pointer, .. annotations.Select(annotation => "/metadata/annotations/" + annotation.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal))];
                Assert.True(expected.SequenceEqual(pointers), $"{list}, {kind}: expected {string.Join(", ", expected)}; found {string.Join(", ", pointers)}");
            }
        }

        Assert.Contains("RespectIgnoreDifferences=true", gitops, StringComparison.Ordinal);
    }

    /// <summary>
    /// The spec pointers name the fields the hold writes: on an object of the kind, as the Kubernetes client serialises
    /// it with the hold's value set, each pointer finds exactly that value (a misspelt or mis-nested pointer finds nothing).
    /// </summary>
    [Fact]
    public void Held_field_pointers_find_the_holds_value_on_each_kind()
    {
        var deployment = new V1Deployment { Spec = new V1DeploymentSpec { Paused = true } };
        var statefulSet = new V1StatefulSet { Spec = new V1StatefulSetSpec { UpdateStrategy = new V1StatefulSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateStatefulSetStrategy { Partition = 2147483647 } } } };
        var daemonSet = new V1DaemonSet { Spec = new V1DaemonSetSpec { UpdateStrategy = new V1DaemonSetUpdateStrategy { Type = "OnDelete" } } };

        foreach (var (kind, serialized) in new[] { ("Deployment", KubernetesJson.Serialize(deployment)), ("StatefulSet", KubernetesJson.Serialize(statefulSet)), ("DaemonSet", KubernetesJson.Serialize(daemonSet)) })
        {
            var (pointer, held) = HeldField[kind];
            var found = pointer.Split('/').Skip(1).Aggregate(JsonNode.Parse(serialized), (node, step) => node?[step]);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(held), found), $"{kind} {pointer}: {found?.ToJsonString() ?? "nothing"}");
        }
    }

    private static List<string> Strings(JsonNode? list) => list!.AsArray().Select(item => item!.GetValue<string>()).ToList();

    [GeneratedRegex("(?m)^```yaml\n(?<body>.*?)^```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    [GeneratedRegex(@"(?<![\w/.-])(?:deploy|certs|src|tests)/[A-Za-z0-9_./-]*[A-Za-z0-9_]")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex(@"\]\((?<file>(?:\.\./|[a-z-]+/)*[A-Za-z-]+\.md)?(?:#(?<anchor>[a-z0-9-]+))?\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"path: /spec/template/spec/containers/0/args/(?<index>[0-9]+)")]
    private static partial Regex ArgsPatch();
}
