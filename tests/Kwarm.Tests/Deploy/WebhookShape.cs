using System.Text.Json.Nodes;

namespace Kwarm.Tests.Deploy;

/// <summary>The MutatingWebhookConfiguration settings of DESIGN §4, checked the same way for both installs.</summary>
internal static class WebhookShape
{
    public static void AssertDesignSettings(JsonObject configuration, string kwarmNamespace)
    {
        var webhook = Assert.Single(configuration["webhooks"]!.AsArray())!;
        Assert.Equal("Ignore", Manifests.Str(webhook["failurePolicy"]));
        Assert.Equal(5, webhook["timeoutSeconds"]!.GetValue<int>());
        Assert.Equal("IfNeeded", Manifests.Str(webhook["reinvocationPolicy"]));
        Assert.Equal("None", Manifests.Str(webhook["sideEffects"]));
        Assert.Equal(["v1"], webhook["admissionReviewVersions"]!.AsArray().Select(Manifests.Str));

        var service = webhook["clientConfig"]!["service"]!;
        Assert.Equal(("kwarm-webhook", kwarmNamespace, "/mutate/deployments", 443),
            (Manifests.Str(service["name"]), Manifests.Str(service["namespace"]), Manifests.Str(service["path"]), service["port"]!.GetValue<int>()));

        var rule = Assert.Single(webhook["rules"]!.AsArray())!;
        Assert.Equal(["apps"], rule["apiGroups"]!.AsArray().Select(Manifests.Str));
        Assert.Equal(["deployments"], rule["resources"]!.AsArray().Select(Manifests.Str));
        Assert.Equal(["CREATE", "UPDATE"], rule["operations"]!.AsArray().Select(Manifests.Str).Order(StringComparer.Ordinal));

        var expression = Assert.Single(webhook["namespaceSelector"]!["matchExpressions"]!.AsArray())!;
        Assert.Equal(("kubernetes.io/metadata.name", "NotIn"), (Manifests.Str(expression["key"]), Manifests.Str(expression["operator"])));
        Assert.Equal(["kube-system", kwarmNamespace], expression["values"]!.AsArray().Select(Manifests.Str).Order(StringComparer.Ordinal));
    }

    /// <summary>The Service selects Kwarm's pods and its port leads to the container port of that name.</summary>
    public static void AssertServiceReachesContainerPort(IReadOnlyList<JsonObject> objects, string serviceName, int servicePort, string containerPortName)
    {
        var service = objects.Single("Service", serviceName);
        var deployment = objects.Single("Deployment", "kwarm");
        var podLabels = deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        foreach (var (key, value) in service["spec"]!["selector"]!.AsObject())
        {
            Assert.Equal(Manifests.Str(value), Manifests.Str(podLabels[key]));
        }

        var port = Assert.Single(service["spec"]!["ports"]!.AsArray())!;
        Assert.Equal(servicePort, port["port"]!.GetValue<int>());
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var expected = Assert.Single(container["ports"]!.AsArray(), item => Manifests.Str(item!["name"]) == containerPortName)!;
        Assert.Equal(expected["containerPort"]!.GetValue<int>(), DeploymentShape.ResolvePort(container, port["targetPort"]!));
    }
}
