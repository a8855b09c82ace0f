using Kwarm.Tests.Resources;
using Kwarm.Admission;
using YamlDotNet.RepresentationModel;

namespace Kwarm.Tests.Admission;

/// <summary>The shipped webhook manifests say what DESIGN §4 requires, and point at the endpoint the code serves.</summary>
public sealed class WebhookManifestTests
{
    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepositoryFiles.Root, "deploy", "webhook", file));
        stream.Load(reader);
        return (YamlMappingNode)Assert.Single(stream.Documents).RootNode;
    }

    private static YamlNode At(YamlNode node, params object[] path)
    {
        foreach (var step in path)
        {
            node = step is int index ? ((YamlSequenceNode)node).Children[index] : ((YamlMappingNode)node).Children[new YamlScalarNode((string)step)];
        }

        return node;
    }

    private static string Scalar(YamlNode node, params object[] path) => ((YamlScalarNode)At(node, path)).Value!;

    private static string[] Strings(YamlNode node, params object[] path) =>
        ((YamlSequenceNode)At(node, path)).Children.Select(child => ((YamlScalarNode)child).Value!).ToArray();

    [Fact]
    public void Mutating_webhook_configuration_fails_open_and_targets_deployments()
    {
        var configuration = Load("mutating-webhook-configuration.yaml");
        var webhook = At(configuration, "webhooks", 0);

        Assert.Equal("MutatingWebhookConfiguration", Scalar(configuration, "kind"));
        Assert.Equal("admissionregistration.k8s.io/v1", Scalar(configuration, "apiVersion"));
        Assert.Equal("kwarm-system/kwarm-webhook", Scalar(configuration, "metadata", "annotations", "cert-manager.io/inject-ca-from"));
        Assert.Equal("Ignore", Scalar(webhook, "failurePolicy"));
        Assert.Equal("5", Scalar(webhook, "timeoutSeconds"));
        Assert.Equal("IfNeeded", Scalar(webhook, "reinvocationPolicy"));
        Assert.Equal("None", Scalar(webhook, "sideEffects"));
        Assert.Equal(["v1"], Strings(webhook, "admissionReviewVersions"));
        Assert.Equal(AdmissionEndpoint.Path, Scalar(webhook, "clientConfig", "service", "path"));
        Assert.Equal("443", Scalar(webhook, "clientConfig", "service", "port"));

        var rule = At(webhook, "rules", 0);
        Assert.Equal(["apps"], Strings(rule, "apiGroups"));
        Assert.Equal(["v1"], Strings(rule, "apiVersions"));
        Assert.Equal(["deployments"], Strings(rule, "resources"));
        Assert.Equal(["CREATE", "UPDATE"], Strings(rule, "operations"));

        var exclusion = At(webhook, "namespaceSelector", "matchExpressions", 0);
        Assert.Equal("kubernetes.io/metadata.name", Scalar(exclusion, "key"));
        Assert.Equal("NotIn", Scalar(exclusion, "operator"));
        Assert.Equal(["kube-system", "kwarm-system"], Strings(exclusion, "values"));
    }

    [Fact]
    public void Service_forwards_443_to_the_webhook_port_of_every_replica()
    {
        var service = Load("service.yaml");
        var configuration = Load("mutating-webhook-configuration.yaml");

        Assert.Equal(Scalar(configuration, "webhooks", 0, "clientConfig", "service", "name"), Scalar(service, "metadata", "name"));
        Assert.Equal("kwarm-system", Scalar(service, "metadata", "namespace"));
        Assert.Equal("443", Scalar(service, "spec", "ports", 0, "port"));
        Assert.Equal("9443", Scalar(service, "spec", "ports", 0, "targetPort"));
    }
}
