using System.Text.Json.Nodes;

namespace Kwarm.Tests.Resources;

/// <summary>The CRDs' own schemas (read from deploy/crds) accept every sample and reject bad objects, naming the field.</summary>
public sealed class CrdSchemaValidationTests
{
    public static TheoryData<string> KwarmSamples =>
        [.. Samples.ManifestFileNames.Where(name => Samples.Read(name)["apiVersion"]!.GetValue<string>().StartsWith("kwarm.io/", StringComparison.Ordinal))];

    [Theory]
    [MemberData(nameof(KwarmSamples))]
    public void Schema_accepts_the_sample(string fileName)
    {
        var sample = Samples.Read(fileName);

        Assert.Empty(CrdFor(sample).Validate(sample));
    }

    [Fact]
    public void Every_kwarm_kind_has_a_sample()
    {
        var kinds = Samples.ManifestFileNames.Select(name => Samples.Read(name)["kind"]!.GetValue<string>()).ToHashSet();

        Assert.Superset(new HashSet<string> { "PrePullPolicy", "PrePullImage" }, kinds);
    }

    [Fact]
    public void Schema_accepts_statuses_as_Kwarm_writes_them()
    {
        Assert.Empty(CustomResourceDefinitionFile.PrePullImage.Validate(StatusExamples.PrePullImageInProgress()));
        Assert.Empty(CustomResourceDefinitionFile.PrePullPolicy.Validate(StatusExamples.PrePullPolicyActive()));
    }

    // Each row: the object to start from (valid), the field to break, the bad value as JSON, the field the error must name.
    [Theory]
    [InlineData(Samples.FullPolicy, "spec.retry.maxAttempts", "-1", "spec.retry.maxAttempts")]
    [InlineData(Samples.FullPolicy, "spec.retry.maxAttempts", "0", "spec.retry.maxAttempts")]
    [InlineData(Samples.FullPolicy, "spec.retry.maxAttempts", "3000000000", "spec.retry.maxAttempts")]
    [InlineData(Samples.FullPolicy, "spec.retry.maxAttempts", "\"3\"", "spec.retry.maxAttempts")]
    [InlineData(Samples.FullPolicy, "spec.retry.backoffSeconds", "0", "spec.retry.backoffSeconds")]
    [InlineData(Samples.FullPolicy, "spec.timeout", "\"ten minutes\"", "spec.timeout")]
    [InlineData(Samples.FullPolicy, "spec.timeout", "\"-5m\"", "spec.timeout")]
    [InlineData(Samples.FullPolicy, "spec.timeout", "600", "spec.timeout")]
    [InlineData(Samples.FullPolicy, "spec.hold.onFailure", "\"Retry\"", "spec.hold.onFailure")]
    [InlineData(Samples.FullPolicy, "spec.hold.maxDuration", "\"15 min\"", "spec.hold.maxDuration")]
    [InlineData(Samples.FullPolicy, "spec.hold.enabled", "\"yes\"", "spec.hold.enabled")]
    [InlineData(Samples.FullPolicy, "spec.imagePullSecrets.inherit", "\"true\"", "spec.imagePullSecrets.inherit")]
    [InlineData(Samples.FullPolicy, "spec.resources.limits.cpu", "\"lots\"", "spec.resources.limits.cpu")]
    [InlineData(Samples.FullPolicy, "spec.selector.namespaces", "[\"shop\", \"shop\"]", "spec.selector.namespaces")]
    [InlineData(Samples.FullPolicy, "spec.selector.matchLabels", "{\"tier\": 1}", "spec.selector.matchLabels.tier")]
    [InlineData(Samples.FullPolicy, "spec.tiemout", "\"5m\"", "spec.tiemout")]
    [InlineData(Samples.FullPolicy, "spec.selector", "null", "spec.selector")]
    [InlineData(Samples.FullPolicy, "spec.nodeSelector.matchExpressions", "[{\"key\": \"pool\", \"operator\": \"in\", \"values\": [\"a\"]}]", "spec.nodeSelector.matchExpressions[0].operator")]
    [InlineData(Samples.ManualImage, "spec.nodes.selector.matchExpressions", "[{\"key\": \"pool\", \"values\": [\"a\"]}]", "spec.nodes.selector.matchExpressions[0].operator")]
    [InlineData(Samples.ManualImage, "spec.image", "\"\"", "spec.image")]
    [InlineData(Samples.ManualImage, "spec.imageDigest", "\"latest\"", "spec.imageDigest")]
    [InlineData(Samples.ManualImage, "spec.nodes.names", "[\"node-a\", \"node-a\"]", "spec.nodes.names")]
    [InlineData(Samples.ManualImage, "spec.tolerations", "[{\"key\": \"a\", \"tolerationSeconds\": \"soon\"}]", "spec.tolerations[0].tolerationSeconds")]
    [InlineData(Samples.ManualImage, "spec.timeout", "\"10 m\"", "spec.timeout")]
    [InlineData(Samples.ManualImage, "spec", "null", "spec")]
    public void Schema_rejects_a_bad_spec_naming_the_field(string sample, string fieldPath, string badJson, string namedField)
    {
        var instance = Samples.Read(sample);
        Assert.Empty(CrdFor(instance).Validate(instance));
        JsonTree.Set(instance, fieldPath, JsonNode.Parse(badJson));

        var errors = CrdFor(instance).Validate(instance);

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, errors));
        Assert.NotEmpty(errors);
        Assert.All(errors, error => Assert.StartsWith(namedField + ":", error, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("status.phase", "\"Done\"", "status.phase")]
    [InlineData("status.summary.completed", "-1", "status.summary.completed")]
    [InlineData("status.nodes", "[{\"node\": \"a\", \"status\": \"Waiting\"}]", "status.nodes[0].status")]
    [InlineData("status.nodes", "[{\"node\": \"a\", \"status\": \"Completed\", \"duration\": \"12.5 s\"}]", "status.nodes[0].duration")]
    [InlineData("status.nodes", "[{\"node\": \"a\", \"status\": \"Completed\", \"startedAt\": \"yesterday\"}]", "status.nodes[0].startedAt")]
    [InlineData("status.startTime", "\"2026-11-26 10:00\"", "status.startTime")]
    [InlineData("status.observedGeneration", "-2", "status.observedGeneration")]
    [InlineData("status.conditions", "[{\"type\": \"Ready\", \"status\": \"Maybe\", \"reason\": \"Pulling\", \"message\": \"\", \"lastTransitionTime\": \"2026-11-26T10:00:00Z\"}]", "status.conditions[0].status")]
    [InlineData("status.conditions", "[{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"not camel case\", \"message\": \"\", \"lastTransitionTime\": \"2026-11-26T10:00:00Z\"}]", "status.conditions[0].reason")]
    public void Schema_rejects_a_bad_status_naming_the_field(string fieldPath, string badJson, string namedField)
    {
        var instance = StatusExamples.PrePullImageInProgress();
        JsonTree.Set(instance, fieldPath, JsonNode.Parse(badJson));

        var errors = CustomResourceDefinitionFile.PrePullImage.Validate(instance);

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, errors));
        Assert.NotEmpty(errors);
        Assert.All(errors, error => Assert.StartsWith(namedField + ":", error, StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_image_is_reported_as_a_required_field()
    {
        var instance = Samples.Read(Samples.ManualImage);
        JsonTree.Remove(instance, "spec.image");

        var errors = CustomResourceDefinitionFile.PrePullImage.Validate(instance);

        Assert.Equal(["spec.image: Required value"], errors);
    }

    [Fact]
    public void Policy_without_a_selector_is_rejected()
    {
        var instance = Samples.Read(Samples.BasicPolicy);
        JsonTree.Remove(instance, "spec.selector");

        Assert.Equal(["spec.selector: Required value"], CustomResourceDefinitionFile.PrePullPolicy.Validate(instance));
    }

    [Fact]
    public void Condition_without_its_required_fields_names_each_of_them()
    {
        var instance = StatusExamples.PrePullPolicyActive();
        JsonTree.Set(instance, "status.conditions", JsonNode.Parse("""[{"type": "Conflict"}]"""));

        var errors = CustomResourceDefinitionFile.PrePullPolicy.Validate(instance);

        Assert.Equal(
            [
                "status.conditions[0].lastTransitionTime: Required value",
                "status.conditions[0].message: Required value",
                "status.conditions[0].reason: Required value",
                "status.conditions[0].status: Required value",
            ],
            errors);
    }

    [Fact]
    public void Error_for_a_negative_attempt_count_says_what_is_wrong()
    {
        var instance = Samples.Read(Samples.BasicPolicy);
        JsonTree.Set(instance, "spec.retry.maxAttempts", -1);

        var error = Assert.Single(CustomResourceDefinitionFile.PrePullPolicy.Validate(instance));

        Assert.StartsWith("spec.retry.maxAttempts: ", error, StringComparison.Ordinal);
        Assert.Contains("minimum", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Quantities_accept_numbers_and_suffixed_strings()
    {
        var instance = Samples.Read(Samples.FullPolicy);
        JsonTree.Set(instance, "spec.resources.limits.cpu", 1);
        JsonTree.Set(instance, "spec.resources.requests.cpu", "0.5");
        JsonTree.Set(instance, "spec.resources.limits.memory", "1Mi");

        Assert.Empty(CustomResourceDefinitionFile.PrePullPolicy.Validate(instance));
    }

    private static CustomResourceDefinitionFile CrdFor(JsonNode instance) => instance["kind"]!.GetValue<string>() switch
    {
        "PrePullPolicy" => CustomResourceDefinitionFile.PrePullPolicy,
        "PrePullImage" => CustomResourceDefinitionFile.PrePullImage,
        var kind => throw new InvalidDataException($"No CRD for {kind}"),
    };
}
