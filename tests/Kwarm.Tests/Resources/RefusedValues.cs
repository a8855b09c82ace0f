using System.Text.Json.Nodes;

namespace Kwarm.Tests.Resources;

/// <summary>
/// The values issue 13 found the CRDs accepting although Kwarm then tripped on them, each as a change to a valid sample.
/// <see cref="ApiServerField"/> is the field kube-apiserver v1.24 names when it refuses the value with the OpenAPI
/// schema alone (lists without an index, as it writes them); null when only a CEL rule can say it (a map key, a rule
/// across fields), which 1.24 drops: Kwarm's own validation reports those, naming <see cref="KwarmField"/>.
/// </summary>
internal sealed record RefusedValue(string Name, string Sample, string FieldPath, string Json, string? ApiServerField, string KwarmField)
{
    /// <summary>A reference of 5,000 characters, longer than any registry allows.</summary>
    public static string LongImage { get; } = "registry.example.com/" + new string('a', 4979);

    public static IReadOnlyList<RefusedValue> All { get; } =
    [
        new("image-empty-tag", Samples.ManualImage, "spec.image", "\"nginx:\"", "spec.image", "spec.image"),
        new("image-upper-case", Samples.ManualImage, "spec.image", "\"UPPER/Case Image::tag@@sha\"", "spec.image", "spec.image"),
        new("image-5000-characters", Samples.ManualImage, "spec.image", $"\"{LongImage}\"", "spec.image", "spec.image"),
        new("digest-md5", Samples.ManualImage, "spec.imageDigest", "\"md5:abc\"", "spec.imageDigest", "spec.imageDigest"),
        new("toleration-operator-maybe", Samples.ManualImage, "spec.tolerations", """[{"key": "dedicated", "operator": "Maybe", "value": "gpu"}]""", "spec.tolerations.operator", "spec.tolerations[0].operator"),
        new("toleration-operator-gt", Samples.ManualImage, "spec.tolerations", """[{"key": "size", "operator": "Gt", "value": "2"}]""", "spec.tolerations.operator", "spec.tolerations[0].operator"),
        new("node-affinity-gt-two-values", Samples.ManualImage, "spec.nodes", """{"nodeAffinity": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "cpu-count", "operator": "Gt", "values": ["4", "8"]}]}]}}""", null, "spec.nodes.nodeAffinity.nodeSelectorTerms[0].matchExpressions[0].values"),
        new("policy-node-selector-gt-two-values", Samples.FullPolicy, "spec.nodeSelector", """{"matchExpressions": [{"key": "cpu-count", "operator": "Gt", "values": ["4", "8"]}]}""", "spec.nodeSelector.matchExpressions.operator", "spec.nodeSelector.matchExpressions[0].operator"),
        new("policy-selector-label-key", Samples.FullPolicy, "spec.selector.matchLabels", """{"bad key!": "true"}""", null, "spec.selector.matchLabels"),
        new("policy-selector-expression-key", Samples.FullPolicy, "spec.selector.matchExpressions", """[{"key": "bad key!", "operator": "Exists"}]""", "spec.selector.matchExpressions.key", "spec.selector.matchExpressions[0].key"),
        new("policy-node-selector-label-key", Samples.FullPolicy, "spec.nodeSelector", """{"matchLabels": {"bad key!": "a"}}""", null, "spec.nodeSelector.matchLabels"),
        new("image-node-selector-label-key", Samples.ManualImage, "spec.nodes", """{"selector": {"matchLabels": {"bad key!": "a"}}}""", null, "spec.nodes.selector.matchLabels"),
        new("image-node-selector-expression-key", Samples.ManualImage, "spec.nodes", """{"selector": {"matchExpressions": [{"key": "bad key!", "operator": "Exists"}]}}""", "spec.nodes.selector.matchExpressions.key", "spec.nodes.selector.matchExpressions[0].key"),
        new("policy-max-attempts-beyond-int32", Samples.FullPolicy, "spec.retry.maxAttempts", "2147483648", "spec.retry.maxAttempts", "spec.retry.maxAttempts"),
        new("image-max-attempts-beyond-int32", Samples.ManualImage, "spec.retry", """{"maxAttempts": 2147483648}""", "spec.retry.maxAttempts", "spec.retry.maxAttempts"),
        new("policy-max-duration-99999999h", Samples.FullPolicy, "spec.hold.maxDuration", "\"99999999h\"", "spec.hold.maxDuration", "spec.hold.maxDuration"),
        new("policy-timeout-99999999h", Samples.FullPolicy, "spec.timeout", "\"99999999h\"", "spec.timeout", "spec.timeout"),
    ];

    public static TheoryData<string> Names => [.. All.Select(value => value.Name)];

    public static RefusedValue Named(string name) => All.Single(value => value.Name == name);

    /// <summary>The sample with the bad value in place, named after the case (a valid object name).</summary>
    public JsonNode Instance()
    {
        var instance = Samples.Read(Sample);
        instance["metadata"]!["name"] = "bad-" + Name;
        JsonTree.Set(instance, FieldPath, JsonNode.Parse(Json));
        return instance;
    }

    public string Kind => Samples.Read(Sample)["kind"]!.GetValue<string>();

    public override string ToString() => Name;
}
