using System.Text.Json.Nodes;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>
/// The defaults the API server writes (from the CRD schema) equal the effective values the C# types compute for
/// an object without them, so a controller sees the same behaviour whether or not the server defaulted the object.
/// </summary>
public sealed class SchemaDefaultsTests
{
    [Fact]
    public void PrePullPolicy_schema_defaults_equal_the_effective_values()
    {
        var minimal = JsonNode.Parse("""{"apiVersion": "kwarm.io/v1alpha1", "kind": "PrePullPolicy", "metadata": {"name": "p"}, "spec": {"selector": {}}}""")!;
        var defaulted = minimal.DeepClone();
        JsonTree.ApplyDefaults(defaulted, CustomResourceDefinitionFile.PrePullPolicy.OpenApiSchema);
        var bare = Samples.ToTyped<PrePullPolicy>(minimal).Spec;
        var server = Samples.ToTyped<PrePullPolicy>(defaulted).Spec;

        // Every field the schema defaults, and only those, is accounted for here.
        Assert.Equal(
            [
                "spec.hold.enabled", "spec.hold.maxDuration", "spec.hold.onCreate", "spec.hold.onFailure",
                "spec.imagePullSecrets.inherit",
                "spec.nodeWarmup.enabled", "spec.nodeWarmup.maxDuration",
                "spec.resources.limits.cpu", "spec.resources.limits.memory", "spec.resources.requests.cpu", "spec.resources.requests.memory",
                "spec.retry.backoffSeconds", "spec.retry.maxAttempts",
                "spec.timeout",
                "spec.workloads[0]", "spec.workloads[1]", "spec.workloads[2]",
            ],
            AddedLeaves(minimal, defaulted));

        Assert.Equal(bare.EffectiveHold, server.Hold);
        Assert.Equal(bare.EffectiveRetry, server.Retry);
        Assert.Equal(bare.EffectiveInheritImagePullSecrets, server.ImagePullSecrets!.Inherit);
        Assert.Equal(bare.EffectiveTimeout, GoDuration.Parse(server.Timeout!));
        Assert.Equal(Samples.ToJson(bare.EffectiveResources).ToJsonString(), Samples.ToJson(server.Resources).ToJsonString());
        Assert.Equal(bare.EffectiveWorkloads.Order(), server.Workloads!.Order());
        Assert.Equal(bare.EffectiveNodeWarmup.Enabled, server.NodeWarmup!.Enabled);
        Assert.Equal(bare.EffectiveNodeWarmup.MaxDuration, server.NodeWarmup.MaxDuration);

        // And the server-defaulted object behaves exactly as the bare one.
        Assert.Equal(bare.EffectiveHold, server.EffectiveHold);
        Assert.Equal(bare.EffectiveRetry, server.EffectiveRetry);
        Assert.Equal(bare.EffectiveTimeout, server.EffectiveTimeout);
        Assert.Equal(bare.EffectiveWorkloads.Order(), server.EffectiveWorkloads.Order());
        Assert.Equal(bare.EffectiveNodeWarmup.EffectiveEnabled, server.EffectiveNodeWarmup.EffectiveEnabled);
        Assert.Equal(bare.EffectiveNodeWarmup.EffectiveMaxDuration, server.EffectiveNodeWarmup.EffectiveMaxDuration);
    }

    [Fact]
    public void PrePullPolicy_effective_defaults_are_the_ones_of_the_design()
    {
        var spec = new PrePullPolicySpec();

        Assert.Equal(3, spec.EffectiveRetry.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(30), spec.EffectiveRetry.EffectiveBackoff);
        Assert.Equal(TimeSpan.FromMinutes(10), spec.EffectiveTimeout);
        Assert.True(spec.EffectiveInheritImagePullSecrets);
        Assert.Empty(spec.EffectiveAdditionalImagePullSecrets);
        Assert.True(spec.EffectiveHold.EffectiveEnabled);
        Assert.False(spec.EffectiveHold.EffectiveOnCreate);
        Assert.Equal(TimeSpan.FromMinutes(15), spec.EffectiveHold.EffectiveMaxDuration);
        Assert.Equal(HoldFailureAction.Release, spec.EffectiveHold.EffectiveOnFailure);
        Assert.False(spec.EffectiveNodeWarmup.EffectiveEnabled);
        Assert.Equal(TimeSpan.FromMinutes(10), spec.EffectiveNodeWarmup.EffectiveMaxDuration);
        Assert.Empty(spec.EffectiveNodeWarmup.EffectiveImages);
        Assert.Equal("100m", spec.EffectiveResources.Requests["cpu"].ToString());
        Assert.Equal("64Mi", spec.EffectiveResources.Requests["memory"].ToString());
        Assert.Equal("100m", spec.EffectiveResources.Limits["cpu"].ToString());
        Assert.Equal("64Mi", spec.EffectiveResources.Limits["memory"].ToString());
    }

    [Fact]
    public void PrePullImage_schema_defaults_equal_the_effective_values()
    {
        var minimal = JsonNode.Parse("""{"apiVersion": "kwarm.io/v1alpha1", "kind": "PrePullImage", "metadata": {"name": "i"}, "spec": {"image": "nginx:1.27"}}""")!;
        var defaulted = minimal.DeepClone();
        JsonTree.ApplyDefaults(defaulted, CustomResourceDefinitionFile.PrePullImage.OpenApiSchema);
        var bare = Samples.ToTyped<PrePullImage>(minimal).Spec;
        var server = Samples.ToTyped<PrePullImage>(defaulted).Spec;

        Assert.Equal(
            [
                "spec.resources.limits.cpu", "spec.resources.limits.memory", "spec.resources.requests.cpu", "spec.resources.requests.memory",
                "spec.retry.backoffSeconds", "spec.retry.maxAttempts",
                "spec.timeout",
            ],
            AddedLeaves(minimal, defaulted));

        Assert.Equal(bare.EffectiveRetry, server.Retry);
        Assert.Equal(bare.EffectiveTimeout, GoDuration.Parse(server.Timeout!));
        Assert.Equal(Samples.ToJson(bare.EffectiveResources).ToJsonString(), Samples.ToJson(server.Resources).ToJsonString());
    }

    [Fact]
    public void Summary_counters_default_to_zero_as_in_csharp()
    {
        var instance = StatusExamples.PrePullImageInProgress();
        JsonTree.Set(instance, "status.summary", new JsonObject());
        JsonTree.ApplyDefaults(instance, CustomResourceDefinitionFile.PrePullImage.OpenApiSchema);

        Assert.Equal(Samples.ToJson(new PullSummary()).ToJsonString(), instance["status"]!["summary"]!.ToJsonString());
    }

    [Fact]
    public void Defaulting_keeps_what_the_user_set()
    {
        var full = Samples.Read(Samples.FullPolicy);
        var defaulted = full.DeepClone();

        JsonTree.ApplyDefaults(defaulted, CustomResourceDefinitionFile.PrePullPolicy.OpenApiSchema);

        Assert.Null(JsonTree.FirstDifference(full, defaulted));
    }

    private static List<string> AddedLeaves(JsonNode before, JsonNode after)
    {
        var existing = JsonTree.Leaves(before);
        return [.. JsonTree.Leaves(after).Keys.Where(path => !existing.ContainsKey(path)).Order(StringComparer.Ordinal)];
    }
}
