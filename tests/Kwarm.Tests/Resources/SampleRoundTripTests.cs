using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

public sealed class SampleRoundTripTests
{
    public static TheoryData<string> SampleFiles => [.. Samples.ManifestFileNames];

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Sample_round_trips_through_the_csharp_types_without_loss(string fileName)
    {
        var original = Samples.Read(fileName);

        var roundTripped = Samples.RoundTrip(original);

        Assert.Null(JsonTree.FirstDifference(original, roundTripped));
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Sample_read_with_KubernetesYaml_gives_the_same_object(string fileName)
    {
        var yaml = File.ReadAllText(RepositoryFiles.Sample(fileName));
        var typeMap = new Dictionary<string, Type>
        {
            [KwarmApi.ApiVersion + "/" + PrePullPolicy.KubeKind] = typeof(PrePullPolicy),
            [KwarmApi.ApiVersion + "/" + PrePullImage.KubeKind] = typeof(PrePullImage),
            ["apps/v1/Deployment"] = typeof(V1Deployment),
            ["apps/v1/StatefulSet"] = typeof(V1StatefulSet),
            ["apps/v1/DaemonSet"] = typeof(V1DaemonSet),
        };

        var loaded = Assert.Single(KubernetesYaml.LoadAllFromString(yaml, typeMap));

        Assert.Null(JsonTree.FirstDifference(Samples.Read(fileName), JsonNode.Parse(KubernetesJson.Serialize(loaded))));
    }

    [Theory]
    [InlineData(nameof(StatusExamples.PrePullImageInProgress))]
    [InlineData(nameof(StatusExamples.PrePullPolicyActive))]
    public void Status_written_by_Kwarm_round_trips_without_loss(string example)
    {
        var original = example == nameof(StatusExamples.PrePullImageInProgress)
            ? StatusExamples.PrePullImageInProgress()
            : StatusExamples.PrePullPolicyActive();

        Assert.Null(JsonTree.FirstDifference(original, Samples.RoundTrip(original)));
    }

    [Fact]
    public void Kustomization_lists_every_sample_and_nothing_else()
    {
        var kustomization = Samples.Read("kustomization.yaml");
        var listed = kustomization["resources"]!.AsArray().Select(r => r!.GetValue<string>()).Order(StringComparer.Ordinal);

        Assert.Equal(Samples.ManifestFileNames, listed);
        Assert.Superset(
            new HashSet<string> { Samples.BasicPolicy, Samples.FullPolicy, Samples.ManualImage, Samples.Deployment, Samples.StatefulSet, Samples.DaemonSet },
            Samples.ManifestFileNames.ToHashSet());
    }

    [Fact]
    public void Crd_kustomization_lists_both_definitions()
    {
        var kustomization = YamlJson.ReadFile(Path.Combine(RepositoryFiles.CrdsDirectory, "kustomization.yaml"));
        var listed = kustomization["resources"]!.AsArray().Select(r => r!.GetValue<string>()).ToHashSet();

        Assert.Equal(new HashSet<string> { "kwarm.io_prepullpolicies.yaml", "kwarm.io_prepullimages.yaml" }, listed);
    }

    [Fact]
    public void Full_policy_sample_sets_every_spec_field()
    {
        var policy = Samples.ToTyped<PrePullPolicy>(Samples.Read(Samples.FullPolicy));

        var unset = UnsetProperties(policy.Spec, "spec").ToList();

        Assert.Empty(unset);
    }

    [Fact]
    public void Example_deployment_opts_in_and_is_selected_by_the_basic_policy()
    {
        var deployment = Samples.ToTyped<V1Deployment>(Samples.Read(Samples.Deployment));
        var policy = Samples.ToTyped<PrePullPolicy>(Samples.Read(Samples.BasicPolicy));

        Assert.Equal("true", deployment.Metadata.Labels[KwarmApi.EnabledLabel]);
        var required = policy.Spec.Selector!.MatchLabels!;
        Assert.NotEmpty(required);
        Assert.All(required, label => Assert.Equal(label.Value, deployment.Metadata.Labels[label.Key]));
    }

    /// <summary>
    /// The StatefulSet and DaemonSet examples opt in like the Deployment, the basic policy holds their kinds, and they
    /// use the strategy Kwarm holds (RollingUpdate): an OnDelete example would be pre-pulled without any hold to show.
    /// </summary>
    [Fact]
    public void Example_statefulset_and_daemonset_opt_in_and_are_held_by_the_basic_policy()
    {
        var statefulSet = Samples.ToTyped<V1StatefulSet>(Samples.Read(Samples.StatefulSet));
        var daemonSet = Samples.ToTyped<V1DaemonSet>(Samples.Read(Samples.DaemonSet));
        var policy = Samples.ToTyped<PrePullPolicy>(Samples.Read(Samples.BasicPolicy));

        var required = policy.Spec.Selector!.MatchLabels!;
        Assert.NotEmpty(required);
        foreach (var labels in new[] { statefulSet.Metadata.Labels, daemonSet.Metadata.Labels })
        {
            Assert.Equal("true", labels[KwarmApi.EnabledLabel]);
            Assert.All(required, label => Assert.Equal(label.Value, labels[label.Key]));
        }

        Assert.Superset(new HashSet<WorkloadKind> { WorkloadKind.StatefulSet, WorkloadKind.DaemonSet }, policy.Spec.EffectiveWorkloads.ToHashSet());
        Assert.Equal("RollingUpdate", statefulSet.Spec.UpdateStrategy.Type);
        Assert.True(statefulSet.Spec.UpdateStrategy.RollingUpdate.Partition < statefulSet.Spec.Replicas, "a partition at or above replicas is a manual staging Kwarm does not hold");
        Assert.Equal("RollingUpdate", daemonSet.Spec.UpdateStrategy.Type);
    }

    /// <summary>
    /// The workload examples' pod templates meet the restricted Pod Security profile where the Deployment example
    /// (which predates them) does not: every field the profile checks, as the admission plugin reads it.
    /// </summary>
    [Theory]
    [InlineData(Samples.StatefulSet)]
    [InlineData(Samples.DaemonSet)]
    public void Example_statefulset_and_daemonset_templates_meet_the_restricted_profile(string fileName)
    {
        var template = Samples.Read(fileName)["spec"]!["template"]!["spec"]!;

        Assert.True(template["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.NotEqual(0, template["securityContext"]!["runAsUser"]!.GetValue<int>());
        Assert.Equal("RuntimeDefault", template["securityContext"]!["seccompProfile"]!["type"]!.GetValue<string>());
        foreach (var field in new[] { "hostNetwork", "hostPID", "hostIPC", "volumes" })
        {
            Assert.Null(template[field]);
        }

        foreach (var container in template["containers"]!.AsArray().Concat(template["initContainers"]?.AsArray() ?? []))
        {
            var security = container!["securityContext"]!;
            Assert.False(security["allowPrivilegeEscalation"]!.GetValue<bool>());
            Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(item => item!.GetValue<string>()));
            Assert.Null(security["capabilities"]!["add"]);
            Assert.Null(security["privileged"]);
            Assert.Null(security["runAsUser"]);
            Assert.All(container["ports"]?.AsArray() ?? [], port => Assert.Null(port!["hostPort"]));
        }
    }

    [Fact]
    public void Effective_accessors_are_never_serialised()
    {
        var policy = new PrePullPolicy { Spec = new PrePullPolicySpec { Retry = new RetrySpec(), Hold = new HoldSpec(), ImagePullSecrets = new PolicyImagePullSecrets() } };
        var image = new PrePullImage { Spec = new PrePullImageSpec { Image = "nginx", Retry = new RetrySpec() } };

        var json = KubernetesJson.Serialize(policy) + KubernetesJson.Serialize(image);

        Assert.DoesNotContain("ffective", json, StringComparison.Ordinal);
        Assert.DoesNotContain("pullReference", json, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("""{"apiVersion":"kwarm.io/v1alpha1","kind":"PrePullPolicy","metadata":{},"spec":{"retry":{},"imagePullSecrets":{},"hold":{}}}""", KubernetesJson.Serialize(policy));
    }

    /// <summary>Serialised properties left null, recursively through Kwarm's own types.</summary>
    private static IEnumerable<string> UnsetProperties(object value, string path)
    {
        foreach (var property in SchemaContract.SerialisedProperties(value.GetType()))
        {
            var child = property.Property.GetValue(value);
            var childPath = $"{path}.{property.Name}";
            if (child is null)
            {
                yield return childPath;
            }
            else if (SchemaContract.IsOwnType(child.GetType()))
            {
                foreach (var nested in UnsetProperties(child, childPath))
                {
                    yield return nested;
                }
            }
        }
    }
}
