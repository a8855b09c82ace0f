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
            new HashSet<string> { Samples.BasicPolicy, Samples.FullPolicy, Samples.ManualImage, Samples.Deployment },
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
