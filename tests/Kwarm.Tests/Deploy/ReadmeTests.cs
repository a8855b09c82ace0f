using System.Text.RegularExpressions;
using Kwarm.Admission;
using Kwarm.Holds;
using Kwarm.Hosting;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The README carries what a user needs without leaving it (issue #7): set-up commands first, then installation,
/// quick start, how a hold works, releasing one by hand, configuration, GitOps, troubleshooting and uninstall, each
/// naming what the repository really has.
/// </summary>
public sealed partial class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Manifests.InRepository("README.md"));

    /// <summary>
    /// Flags of other tools the documents name in backticks, and Kwarm's own <c>--help</c> and placeholder; the last four are
    /// docs/warm-nodes.md's: the kubelet's, cluster-autoscaler's (two) and the Azure CLI's.
    /// </summary>
    private static readonly string[] OtherFlags = ["help", "name", "timeout", "atomic", "register-with-taints", "startup-taint", "ignore-taint", "node-taints"];

    /// <summary>The options of the run command (src/Kwarm.Local) and of the cluster simulator, from their usage texts.</summary>
    private static readonly HashSet<string> ToolFlags =
    [
        .. UsageFlag().Matches(Kwarm.Local.LocalSettings.Usage + Kwarm.Simulator.Hosting.CommandLine.Usage).Select(match => match.Groups["name"].Value),
    ];

    [Fact]
    public void Set_up_is_the_first_section_and_keeps_exactly_its_two_commands()
    {
        Assert.Equal("## Set up", Headings(Readme).First());

        var commands = FencedBlocks(Section(Readme, "## Set up")).SelectMany(block => block.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(["dotnet run --project src/Kwarm.Local", "dotnet test Kwarm.sln"], commands);
        Assert.DoesNotContain("helm ", Section(Readme, "## Set up"), StringComparison.Ordinal);
    }

    [Fact]
    public void Sections_come_in_the_order_a_user_needs_them()
    {
        string[] expected =
        [
            "## Set up", "## Try it by hand", "## Install in a cluster", "## Quick start", "## Architecture", "## How a hold works",
            "## Releasing a hold by hand", "## Configuration", "## Argo CD and Flux", "## Troubleshooting", "## Uninstall",
            "## Documentation", "## Layout",
        ];

        Assert.Equal(expected, Headings(Readme).Where(heading => heading.StartsWith("## ", StringComparison.Ordinal)));
        Assert.Equal(
            ["### PrePullPolicy", "### PrePullImage", "### Flags", "### Metrics", "### Annotations and labels on Deployments"],
            Headings(Section(Readme, "## Configuration")).Skip(1));
    }

    [Theory]
    [InlineData("## Install in a cluster", "docs/install.md")]
    [InlineData("## How a hold works", "docs/architecture.md")]
    [InlineData("## Configuration", "docs/configuration.md")]
    [InlineData("## Argo CD and Flux", "docs/gitops.md")]
    [InlineData("## Troubleshooting", "docs/troubleshooting.md")]
    [InlineData("## Uninstall", "docs/install.md")]
    public void Each_short_section_links_to_its_page_for_depth(string heading, string page)
    {
        Assert.Contains($"]({page}", Section(Readme, heading), StringComparison.Ordinal);
    }

    [Fact]
    public void Install_section_installs_with_helm_and_with_kubectl_from_the_repository()
    {
        var install = Section(Readme, "## Install in a cluster");

        Assert.Contains("helm install kwarm deploy/charts/kwarm --namespace kwarm-system --create-namespace", install, StringComparison.Ordinal);
        Assert.Contains("kubectl apply --server-side -k deploy/kustomize/default", install, StringComparison.Ordinal);
        Assert.True(File.Exists(Manifests.InRepository("deploy", "charts", "kwarm", "Chart.yaml")));
        Assert.True(File.Exists(Manifests.InRepository("deploy", "kustomize", "default", "kustomization.yaml")));
    }

    [Fact]
    public void Quick_start_applies_every_sample()
    {
        var quickStart = Section(Readme, "## Quick start");
        var samples = Directory.GetFiles(Manifests.InRepository("deploy", "samples"), "*.yaml")
            .Select(Path.GetFileName).Where(name => name != "kustomization.yaml").ToList();

        Assert.Equal(6, samples.Count);
        foreach (var sample in samples)
        {
            Assert.Contains($"kubectl apply -f deploy/samples/{sample}", quickStart, StringComparison.Ordinal);
        }
    }

    /// <summary>The hold id the quick start shows is the one the webhook computes for the image it sets.</summary>
    [Fact]
    public void Quick_start_shows_the_hold_id_of_the_image_it_sets()
    {
        var quickStart = Section(Readme, "## Quick start");
        var image = QuickStartSetImage().Match(quickStart);
        var shown = QuickStartHoldId().Match(quickStart);

        Assert.True(image.Success && shown.Success, "the quick start sets an image and shows the hold annotation");
        Assert.Equal(HoldId.For([image.Groups["image"].Value]), shown.Groups["id"].Value);
    }

    [Fact]
    public void Hold_sections_name_the_annotations_events_and_release_reasons_of_the_code()
    {
        var hold = Section(Readme, "## How a hold works");
        foreach (var reason in Enum.GetNames<ReleaseReason>())
        {
            Assert.Contains($"`{reason}`", hold, StringComparison.Ordinal);
        }

        foreach (var reason in new[] { HoldEvents.HoldStarted, HoldEvents.PullFailed, HoldEvents.HoldReleased })
        {
            Assert.Contains($"`{reason}`", hold, StringComparison.Ordinal);
        }

        var release = Section(Readme, "## Releasing a hold by hand");
        Assert.Contains($"kubectl annotate deployment web {KwarmApi.ReleaseAnnotation}=true", release, StringComparison.Ordinal);
        Assert.Contains($"kubectl annotate deployment web {KwarmApi.SkipAnnotation}=true", release, StringComparison.Ordinal);
    }

    [Fact]
    public void Gitops_section_ignores_what_kwarm_writes_and_respects_it_on_sync()
    {
        var gitops = Section(Readme, "## Argo CD and Flux");
        var pointers = new[] { KwarmApi.HoldAnnotation, KwarmApi.PolicyAnnotation, KwarmApi.ReleasedAnnotation }
            .Select(annotation => "- /metadata/annotations/" + annotation.Replace("/", "~1", StringComparison.Ordinal) + "\n")
            .Append("- /spec/paused\n");

        foreach (var pointer in pointers)
        {
            Assert.Contains(pointer, gitops, StringComparison.Ordinal);
        }

        Assert.Contains("RespectIgnoreDifferences=true", gitops, StringComparison.Ordinal);
        Assert.Contains("hold.maxDuration", gitops, StringComparison.Ordinal);
        Assert.Contains("timeout", gitops, StringComparison.Ordinal);
    }

    [Fact]
    public void Uninstall_releases_every_hold_before_removing_kwarm()
    {
        var uninstall = Section(Readme, "## Uninstall");

        Assert.Contains("helm uninstall kwarm -n kwarm-system", uninstall, StringComparison.Ordinal);
        var script = uninstall.IndexOf("sh deploy/charts/kwarm/files/release-holds.sh", StringComparison.Ordinal);
        var delete = uninstall.IndexOf("kubectl delete -k deploy/kustomize/default", StringComparison.Ordinal);
        Assert.True(script >= 0 && delete > script, "the kubectl uninstall must run release-holds.sh before deleting Kwarm");
        Assert.True(File.Exists(Manifests.InRepository("deploy", "charts", "kwarm", "files", "release-holds.sh")));
    }

    /// <summary>
    /// "Try it by hand" runs the playground and shows the commands it prints, exactly (PlaygroundTests runs the printed
    /// ones against it).
    /// </summary>
    [Fact]
    public void Try_it_by_hand_shows_the_commands_the_playground_prints()
    {
        var section = Section(Readme, "## Try it by hand");
        var blocks = FencedBlocks(section).ToList();

        Assert.Equal("dotnet run --project src/Kwarm.Local -- --playground", blocks[0].Trim());
        var shown = blocks[1].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith("kubectl ", StringComparison.Ordinal))
            .Select(line => line.Split('#') is [var command, .. var comment] ? (command.Trim(), string.Join('#', comment).Trim()) : (line, ""))
            .ToList();
        Assert.Equal(Kwarm.Local.Playground.Commands, shown);
        Assert.StartsWith("export KUBECONFIG=", blocks[1], StringComparison.Ordinal);
        Assert.Contains($"`{Kwarm.Local.LocalCluster.MissingImage}`", section, StringComparison.Ordinal);
        Assert.Contains($"`{Kwarm.Local.LocalCluster.OldImage}`", section, StringComparison.Ordinal);
        Assert.Contains($"on {Kwarm.Local.LocalSettings.DefaultPlaygroundNodes} nodes", section, StringComparison.Ordinal);
    }

    /// <summary>The test prerequisites the README names are the packages CI installs, no more and no fewer.</summary>
    [Fact]
    public void Test_prerequisites_are_the_packages_ci_installs()
    {
        var named = AptInstall().Match(Section(Readme, "## Set up"));
        var installed = AptInstall().Matches(File.ReadAllText(Manifests.InRepository(".ci", "run")))
            .SingleOrDefault(install => install.Value.Contains("gcc-aarch64-linux-gnu", StringComparison.Ordinal)) ?? Match.Empty;

        Assert.True(named.Success, "the README's Set up names no `sudo apt-get install ...`");
        Assert.True(installed.Success, ".ci/run installs no packages");
        Assert.Equal(Packages(installed), Packages(named));

        static IEnumerable<string> Packages(Match install) =>
            install.Groups["packages"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(word => !word.StartsWith('-')).Order(StringComparer.Ordinal);
    }

    /// <summary>What <c>kubectl get ppp</c> and <c>kubectl get ppi</c> show, and what <c>-o wide</c> adds, as the CRDs print it.</summary>
    [Theory]
    [InlineData("ppp")]
    [InlineData("ppi")]
    public void Printer_column_sentences_match_the_crds(string shortName)
    {
        var crd = shortName == "ppp" ? Resources.CustomResourceDefinitionFile.PrePullPolicy : Resources.CustomResourceDefinitionFile.PrePullImage;
        var columns = crd.Version["additionalPrinterColumns"]!.AsArray().Select(column => column!.AsObject()).ToList();
        var shown = columns.Where(column => column["priority"] is null).Select(column => column["name"]!.GetValue<string>()).ToList();
        var wide = columns.Where(column => column["priority"] is not null).Select(column => column["name"]!.GetValue<string>()).ToList();

        var sentence = $"`kubectl get {shortName}` shows {Enumerate(shown)}" + (wide.Count == 0 ? "" : $" (`-o wide` adds {Enumerate(wide)})");

        Assert.Contains(sentence, Readme, StringComparison.Ordinal);

        static string Enumerate(List<string> names) => names.Count == 1 ? names[0] : string.Join(", ", names[..^1]) + " and " + names[^1];
    }

    /// <summary>
    /// The <c>status.nodes[].error</c> example is what a node's failed pull leaves there: the kubelet's waiting message, as
    /// containerd words it (the simulated kubelet's wording) and as Kwarm copies it.
    /// </summary>
    [Fact]
    public void Node_error_example_is_the_kubelets_message_as_kwarm_records_it()
    {
        var row = Readme.Split('\n').Single(line => line.StartsWith("| `status.nodes[].error` |", StringComparison.Ordinal));
        var example = ErrorExample().Match(row);
        Assert.True(example.Success, row);
        var image = ImageOf().Match(example.Groups["message"].Value).Groups["image"].Value;
        var registry = new Kwarm.Simulator.Nodes.ImageRegistry();
        registry.MarkMissing(image);
        var pull = registry.Resolve(image, "amd64", new HashSet<string>());
        var pod = new k8s.Models.V1Pod
        {
            Status = new k8s.Models.V1PodStatus
            {
                ContainerStatuses =
                [
                    new k8s.Models.V1ContainerStatus
                    {
                        Name = Kwarm.Pulling.PullJobTemplate.PullContainer,
                        State = new k8s.Models.V1ContainerState { Waiting = new k8s.Models.V1ContainerStateWaiting { Reason = pull.Reason, Message = pull.Message } },
                    },
                ],
            },
        };

        var outcome = Kwarm.Pulling.PullAttemptObserver.Observe(null, pod, DateTime.UtcNow, TimeSpan.FromMinutes(10), DateTime.UtcNow);

        Assert.Equal("ErrImagePull", pull.Reason);
        Assert.Equal(pull.Message, outcome.Error);
        Assert.Equal(outcome.Error, example.Groups["message"].Value);
    }

    /// <summary>
    /// Prose anywhere (README and docs/) names only flags and metrics that exist: a renamed or removed flag or metric
    /// left in a sentence fails here, not only in the tables.
    /// </summary>
    [Fact]
    public void Flags_and_metrics_named_anywhere_in_the_documents_exist()
    {
        var documents = Directory.GetFiles(Manifests.InRepository("docs"), "*.md")
            .Where(path => Path.GetFileName(path) != "benchmarks.md")
            .Append(Manifests.InRepository("README.md"))
            .ToList();

        foreach (var document in documents)
        {
            var text = File.ReadAllText(document);
            foreach (Match match in BacktickedFlag().Matches(text))
            {
                var name = match.Groups["name"].Value;
                Assert.True(
                    KwarmFlags.Find(name) is not null || OtherFlags.Contains(name) || ToolFlags.Contains(name),
                    $"{Path.GetFileName(document)} names --{name}, which is no flag of Kwarm, the run command or the simulator");
            }

            foreach (Match match in MetricName().Matches(text))
            {
                Assert.True(KwarmInstruments.MetricOf(match.Value) is not null, $"{Path.GetFileName(document)} names {match.Value}, which Kwarm does not export");
            }
        }
    }

    [Fact]
    public void Flag_check_rejects_an_unknown_flag_and_metric_check_an_unknown_series()
    {
        Assert.Null(KwarmFlags.Find(BacktickedFlag().Match("`--max-pulls-per-zone=3`").Groups["name"].Value));
        Assert.Null(KwarmInstruments.MetricOf(MetricName().Match("rate(kwarm_pulls_failed_total[5m])").Value));
        Assert.Equal("kwarm_pulls_total", KwarmInstruments.MetricOf(MetricName().Match("rate(kwarm_pulls_total[5m])").Value));
    }

    /// <summary>The text from <paramref name="heading"/> to the next heading of the same or a higher level.</summary>
    internal static string Section(string markdown, string heading)
    {
        var lines = OutsideFences(markdown);
        var level = heading.IndexOf(' ', StringComparison.Ordinal);
        var start = lines.FindIndex(line => line.Text == heading);
        Assert.True(start >= 0, $"no heading \"{heading}\"");
        var end = lines.FindIndex(start + 1, line => line.IsHeading && line.Text.IndexOf(' ', StringComparison.Ordinal) <= level);
        var all = markdown.Split('\n');
        return string.Join('\n', all[lines[start].Index..(end < 0 ? all.Length : lines[end].Index)]);
    }

    /// <summary>Headings outside code blocks, in order ("## Set up", "### Flags").</summary>
    internal static IEnumerable<string> Headings(string markdown) =>
        OutsideFences(markdown).Where(line => line.IsHeading).Select(line => line.Text);

    private static IEnumerable<string> FencedBlocks(string markdown)
    {
        foreach (Match match in FencedBlock().Matches(markdown))
        {
            yield return match.Groups["body"].Value;
        }
    }

    private static List<(int Index, string Text, bool IsHeading)> OutsideFences(string markdown)
    {
        var lines = new List<(int, string, bool)>();
        var inFence = false;
        var all = markdown.Split('\n');
        for (var index = 0; index < all.Length; index++)
        {
            var text = all[index].TrimEnd('\r');
            if (text.StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (!inFence)
            {
                lines.Add((index, text, text.StartsWith("## ", StringComparison.Ordinal) || text.StartsWith("### ", StringComparison.Ordinal)));
            }
        }

        return lines;
    }

    [GeneratedRegex("```[a-z]*\\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex("`--(?<name>[a-z][a-z-]*)(?:[= ][^`]*)?`")]
    private static partial Regex BacktickedFlag();

    [GeneratedRegex(@"kubectl set image deployment/web web=(?<image>\S+)")]
    private static partial Regex QuickStartSetImage();

    [GeneratedRegex(@"#   true (?<id>[0-9a-f]+)\n")]
    private static partial Regex QuickStartHoldId();

    [GeneratedRegex("kwarm_[a-z_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"--(?<name>[a-z][a-z-]*)")]
    private static partial Regex UsageFlag();

    [GeneratedRegex(@"apt-get install (?<packages>[a-z0-9 .+-]+?)(?:`|\s*>|\s*;|\s*$)", RegexOptions.Multiline)]
    private static partial Regex AptInstall();

    [GeneratedRegex(@"e\.g\. `(?<message>[^`]+)`")]
    private static partial Regex ErrorExample();

    [GeneratedRegex("failed to pull and unpack image \"(?<image>[^\"]+)\"")]
    private static partial Regex ImageOf();
}
