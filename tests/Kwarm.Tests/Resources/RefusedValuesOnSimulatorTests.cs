using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Tests.Resources;

/// <summary>
/// The simulator, with Kwarm's real CRDs installed, refuses the values of <see cref="RefusedValue.All"/> the way
/// kube-apiserver v1.24 does (the messages below were recorded from it; see the issue-13 schema notes): the OpenAPI
/// schema's refusals, with the same Status, fields and messages; and, like 1.24 with its default feature gates, it
/// takes a CRD carrying CEL rules and lets through what only those rules would refuse.
/// </summary>
[Trait("Lane", "Simulator")]
public sealed class RefusedValuesOnSimulatorTests : IAsyncLifetime
{
    private const string Namespace = "shop";

    /// <summary>The Status message kube-apiserver v1.24 answered for these values (recorded with the same CRDs).</summary>
    private static readonly Dictionary<string, string> RecordedMessages = new(StringComparer.Ordinal)
    {
        ["digest-md5"] = "PrePullImage.kwarm.io \"bad-digest-md5\" is invalid: spec.imageDigest: Invalid value: \"md5:abc\": spec.imageDigest in body should match '^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$'",
        ["toleration-operator-maybe"] = "PrePullImage.kwarm.io \"bad-toleration-operator-maybe\" is invalid: spec.tolerations.operator: Unsupported value: \"Maybe\": supported values: \"\", \"Exists\", \"Equal\"",
        ["policy-node-selector-gt-two-values"] = "PrePullPolicy.kwarm.io \"bad-policy-node-selector-gt-two-values\" is invalid: spec.nodeSelector.matchExpressions.operator: Unsupported value: \"Gt\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
        ["policy-max-attempts-beyond-int32"] = "PrePullPolicy.kwarm.io \"bad-policy-max-attempts-beyond-int32\" is invalid: spec.retry.maxAttempts: Invalid value: 2147483648: spec.retry.maxAttempts in body should be less than or equal to 100",
        ["image-max-attempts-beyond-int32"] = "PrePullImage.kwarm.io \"bad-image-max-attempts-beyond-int32\" is invalid: spec.retry.maxAttempts: Invalid value: 2147483648: spec.retry.maxAttempts in body should be less than or equal to 100",
        ["image-empty-tag"] = $"PrePullImage.kwarm.io \"bad-image-empty-tag\" is invalid: spec.image: Invalid value: \"nginx:\": spec.image in body should match '{ImageReference.Pattern}'",
        ["image-5000-characters"] = $"PrePullImage.kwarm.io \"bad-image-5000-characters\" is invalid: spec.image: Invalid value: \"{RefusedValue.LongImage}\": spec.image in body should be at most 512 chars long",
        ["policy-selector-expression-key"] = $"PrePullPolicy.kwarm.io \"bad-policy-selector-expression-key\" is invalid: spec.selector.matchExpressions.key: Invalid value: \"bad key!\": spec.selector.matchExpressions.key in body should match '{KubernetesNames.LabelKeyPattern}'",
        ["policy-timeout-99999999h"] = $"PrePullPolicy.kwarm.io \"bad-policy-timeout-99999999h\" is invalid: spec.timeout: Invalid value: \"99999999h\": spec.timeout in body should match '{GoDuration.BoundedPattern}'",
    };

    private SimulatedCluster? _cluster;
    private k8s.Kubernetes? _client;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01, RecordEvents = false }, Token);
        _client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_cluster.KubeconfigPath));
        foreach (var path in new[] { RepositoryFiles.PrePullPolicyCrd, RepositoryFiles.PrePullImageCrd })
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(path, Token));
            Assert.NotNull(crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]);
            await _client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: Token);
        }

        await _client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: Token);
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(RefusedValue.Names), MemberType = typeof(RefusedValue))]
    public async Task The_simulator_refuses_what_the_schema_refuses_as_kube_apiserver_does(string name)
    {
        var value = RefusedValue.Named(name);
        var instance = value.Instance();

        var status = await CreateAsync(value, instance);

        if (value.ApiServerField is null)
        {
            Assert.Null(status);
            return;
        }

        Assert.NotNull(status);
        Assert.Equal((422, "Invalid"), (status["code"]!.GetValue<int>(), status["reason"]!.GetValue<string>()));
        var causes = status["details"]!["causes"]!.AsArray();
        Assert.Contains(causes, cause => cause!["field"]!.GetValue<string>() == value.ApiServerField);
        if (RecordedMessages.TryGetValue(name, out var recorded))
        {
            Assert.Equal(recorded, status["message"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task An_enum_miss_is_reported_as_not_supported_and_a_repeated_violation_once()
    {
        var instance = RefusedValue.Named("toleration-operator-maybe").Instance();
        instance["spec"]!["tolerations"]!.AsArray().Add(JsonNode.Parse("""{"key": "zone", "operator": "Sometimes", "value": "a"}"""));

        var status = await CreateAsync(RefusedValue.Named("toleration-operator-maybe"), instance);

        var cause = Assert.Single(status!["details"]!["causes"]!.AsArray());
        Assert.Equal("FieldValueNotSupported", cause!["reason"]!.GetValue<string>());
        Assert.Equal("spec.tolerations.operator", cause["field"]!.GetValue<string>());
        Assert.StartsWith("Unsupported value: \"Maybe\"", cause["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_recorded_message_belongs_to_a_value_the_schema_refuses() =>
        Assert.All(RecordedMessages.Keys, name => Assert.NotNull(RefusedValue.Named(name).ApiServerField));

    /// <summary>Null when the object was created, else the Status the API answered.</summary>
    private async Task<JsonObject?> CreateAsync(RefusedValue value, JsonNode instance)
    {
        try
        {
            if (value.Kind == PrePullPolicy.KubeKind)
            {
                await _client!.CustomObjects.CreateClusterCustomObjectAsync(instance, KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, cancellationToken: Token);
            }
            else
            {
                await _client!.CustomObjects.CreateNamespacedCustomObjectAsync(instance, KwarmApi.Group, KwarmApi.Version, Namespace, PrePullImage.KubePluralName, cancellationToken: Token);
            }

            return null;
        }
        catch (HttpOperationException refused) when (refused.Response.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            return JsonNode.Parse(refused.Response.Content)!.AsObject();
        }
    }
}
