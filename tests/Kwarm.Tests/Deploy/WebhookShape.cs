using System.Text.Json.Nodes;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The MutatingWebhookConfiguration of DESIGN §4 and issue #16, checked the same way for both installs: one entry per
/// workload kind Kwarm holds, in this order, each on its own path, and every entry with the same safety settings.
/// </summary>
internal static class WebhookShape
{
    /// <summary>(entry name, resource, path) of every entry, as the workloads contract names them.</summary>
    public static readonly (string Name, string Resource, string Path)[] Entries =
    [
        ("hold.deployments.kwarm.io", "deployments", "/mutate/deployments"),
        ("hold.statefulsets.kwarm.io", "statefulsets", "/mutate/statefulsets"),
        ("hold.daemonsets.kwarm.io", "daemonsets", "/mutate/daemonsets"),
    ];

    /// <summary>Every field an entry has besides its name, the Service path and the rule's resources: they must agree.</summary>
    private static readonly string[] SharedFields =
        ["admissionReviewVersions", "sideEffects", "failurePolicy", "timeoutSeconds", "reinvocationPolicy", "matchPolicy", "namespaceSelector", "objectSelector"];

    public static void AssertDesignSettings(JsonObject configuration, string kwarmNamespace)
    {
        var webhooks = configuration["webhooks"]!.AsArray().Select(webhook => webhook!.AsObject()).ToList();
        Assert.Equal(Entries.Select(entry => entry.Name), webhooks.Select(webhook => Manifests.Str(webhook["name"])));
        AssertEntriesAgree(webhooks);

        foreach (var (webhook, (_, resource, path)) in webhooks.Zip(Entries))
        {
            Assert.Equal("Ignore", Manifests.Str(webhook["failurePolicy"]));
            Assert.Equal(5, webhook["timeoutSeconds"]!.GetValue<int>());
            Assert.Equal("IfNeeded", Manifests.Str(webhook["reinvocationPolicy"]));
            Assert.Equal("None", Manifests.Str(webhook["sideEffects"]));
            Assert.Equal(["v1"], webhook["admissionReviewVersions"]!.AsArray().Select(Manifests.Str));

            var service = webhook["clientConfig"]!["service"]!;
            Assert.Equal(("kwarm-webhook", kwarmNamespace, path, 443),
                (Manifests.Str(service["name"]), Manifests.Str(service["namespace"]), Manifests.Str(service["path"]), service["port"]!.GetValue<int>()));

            // One rule, the kind itself: subresources such as statefulsets/scale are never held, so never sent.
            var rule = Assert.Single(webhook["rules"]!.AsArray())!;
            Assert.Equal(["apps"], rule["apiGroups"]!.AsArray().Select(Manifests.Str));
            Assert.Equal(["v1"], rule["apiVersions"]!.AsArray().Select(Manifests.Str));
            Assert.Equal([resource], rule["resources"]!.AsArray().Select(Manifests.Str));
            Assert.Equal(["CREATE", "UPDATE"], rule["operations"]!.AsArray().Select(Manifests.Str).Order(StringComparer.Ordinal));
            Assert.Equal("Namespaced", Manifests.Str(rule["scope"]));

            var expression = Assert.Single(webhook["namespaceSelector"]!["matchExpressions"]!.AsArray())!;
            Assert.Equal(("kubernetes.io/metadata.name", "NotIn"), (Manifests.Str(expression["key"]), Manifests.Str(expression["operator"])));
            Assert.Equal(["kube-system", kwarmNamespace], expression["values"]!.AsArray().Select(Manifests.Str).Order(StringComparer.Ordinal));
        }
    }

    /// <summary>The entry <c>flags.taintNewNodes</c> and <c>deploy/kustomize/taint-new-nodes</c> add (issue #17).</summary>
    public const string NodeEntryName = "taint.nodes.kwarm.io";

    /// <summary>
    /// The nodes entry: Node CREATE only (Kwarm never taints an existing node), to <c>/mutate/nodes</c> on the Service and
    /// CA of the workload entries, with their timeout; always <c>failurePolicy: Ignore</c> (a node must register while
    /// Kwarm is down) and no namespace selector (Nodes have no namespace).
    /// </summary>
    public static void AssertNodeEntry(JsonObject node, JsonObject workloadEntry)
    {
        Assert.Equal(NodeEntryName, Manifests.Str(node["name"]));
        Assert.Equal("Ignore", Manifests.Str(node["failurePolicy"]));
        Assert.Equal("None", Manifests.Str(node["sideEffects"]));
        Assert.Equal(["v1"], node["admissionReviewVersions"]!.AsArray().Select(Manifests.Str));
        Assert.Equal(workloadEntry["timeoutSeconds"]!.GetValue<int>(), node["timeoutSeconds"]!.GetValue<int>());
        Assert.Null(node["namespaceSelector"]);
        Assert.Null(node["objectSelector"]);
        Assert.Equal(Kwarm.Admission.AdmissionEndpoint.NodesPath, Manifests.Str(node["clientConfig"]!["service"]!["path"]));
        Assert.True(Manifests.SameTree(WithoutPath(workloadEntry["clientConfig"]!), WithoutPath(node["clientConfig"]!)), "the nodes entry reaches another Service, port or CA");

        var rule = Assert.Single(node["rules"]!.AsArray())!;
        Assert.Equal([""], rule["apiGroups"]!.AsArray().Select(Manifests.Str));
        Assert.Equal(["v1"], rule["apiVersions"]!.AsArray().Select(Manifests.Str));
        Assert.Equal(["nodes"], rule["resources"]!.AsArray().Select(Manifests.Str));
        Assert.Equal(["CREATE"], rule["operations"]!.AsArray().Select(Manifests.Str));
        Assert.Equal("Cluster", Manifests.Str(rule["scope"]));
    }

    /// <summary>
    /// The entries differ only in name, Service path and resource: the same safety settings, Service, port and CA for
    /// every kind, whatever values the chart was given.
    /// </summary>
    public static void AssertEntriesAgree(IReadOnlyList<JsonObject> webhooks)
    {
        var first = webhooks[0];
        foreach (var webhook in webhooks.Skip(1))
        {
            var name = Manifests.Str(webhook["name"]);
            foreach (var field in SharedFields)
            {
                Assert.True(Manifests.SameTree(first[field], webhook[field]), $"{name}: {field} differs from {Manifests.Str(first["name"])}");
            }

            Assert.True(Manifests.SameTree(WithoutPath(first["clientConfig"]!), WithoutPath(webhook["clientConfig"]!)), $"{name}: clientConfig differs beyond its path");
            Assert.True(Manifests.SameTree(WithoutResources(first["rules"]!), WithoutResources(webhook["rules"]!)), $"{name}: rules differ beyond their resources");
            Assert.Equal(first.Select(pair => pair.Key).Order(StringComparer.Ordinal), webhook.Select(pair => pair.Key).Order(StringComparer.Ordinal));
        }
    }

    private static JsonNode WithoutPath(JsonNode clientConfig)
    {
        var copy = clientConfig.DeepClone();
        copy["service"]?.AsObject().Remove("path");
        return copy;
    }

    private static JsonNode WithoutResources(JsonNode rules)
    {
        var copy = rules.DeepClone();
        foreach (var rule in copy.AsArray())
        {
            rule!.AsObject().Remove("resources");
        }

        return copy;
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
