using System.Text.Json.Nodes;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The Helm chart, rendered by <see cref="ChartTemplateRenderer"/>, installs what the kustomize default installs
/// (same objects, RBAC and webhook settings), and its values reach the manifests.
/// </summary>
[Trait("Lane", "Packaging")]
public sealed class HelmChartTests
{
    private static readonly string[] HookKinds = ["Job"];

    [Fact]
    public void Chart_crds_are_byte_identical_to_deploy_crds()
    {
        var expected = Directory.GetFiles(Manifests.InRepository("deploy", "crds"), "kwarm.io_*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var actual = Directory.GetFiles(Path.Combine(Manifests.ChartDirectory, "crds")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(expected, actual);
        foreach (var file in expected)
        {
            Assert.Equal(File.ReadAllBytes(Manifests.InRepository("deploy", "crds", file!)), File.ReadAllBytes(Path.Combine(Manifests.ChartDirectory, "crds", file!)));
        }
    }

    [Fact]
    public async Task Chart_installs_the_same_objects_as_kustomize()
    {
        var kustomized = await Manifests.KustomizeDefaultAsync();
        var chart = Manifests.RenderChart();

        // The chart's CRDs come from crds/ and its namespace from `helm install --create-namespace`.
        var expected = kustomized.Where(item => Manifests.Kind(item) is not ("Namespace" or "CustomResourceDefinition"))
            .Select(Manifests.Identity).Order(StringComparer.Ordinal);
        var actual = chart.Where(item => !IsHook(item)).Select(Manifests.Identity).Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Chart_rbac_equals_kustomize_rbac()
    {
        var kustomized = await Manifests.KustomizeDefaultAsync();
        var chart = Manifests.RenderChart();

        Assert.Equal(KustomizeDefaultTests.ExpectedClusterRules, Manifests.Rules(chart.Single("ClusterRole", "kwarm")));
        Assert.Equal(Manifests.Rules(kustomized.Single("Role", "kwarm-leader-election")), Manifests.Rules(chart.Single("Role", "kwarm-leader-election")));
        foreach (var (kind, name) in new[] { ("ClusterRoleBinding", "kwarm"), ("RoleBinding", "kwarm-leader-election") })
        {
            Assert.True(Manifests.SameTree(kustomized.Single(kind, name)["subjects"], chart.Single(kind, name)["subjects"]), $"{kind} {name} subjects differ");
            Assert.True(Manifests.SameTree(kustomized.Single(kind, name)["roleRef"], chart.Single(kind, name)["roleRef"]), $"{kind} {name} roleRef differs");
        }
    }

    [Fact]
    public async Task Chart_webhook_equals_kustomize_webhook()
    {
        var kustomized = await Manifests.KustomizeDefaultAsync();
        var chart = Manifests.RenderChart();

        var configuration = chart.Single("MutatingWebhookConfiguration", "kwarm");
        WebhookShape.AssertDesignSettings(configuration, Manifests.Namespace);
        Assert.True(Manifests.SameTree(kustomized.Single("MutatingWebhookConfiguration", "kwarm")["webhooks"], configuration["webhooks"]));
        Assert.True(Manifests.SameTree(kustomized.Single("MutatingWebhookConfiguration", "kwarm")["metadata"]!["annotations"], configuration["metadata"]!["annotations"]));
        WebhookShape.AssertServiceReachesContainerPort(chart, "kwarm-webhook", 443, "webhook");
        WebhookShape.AssertServiceReachesContainerPort(chart, "kwarm-metrics", 8080, "metrics");
    }

    [Fact]
    public async Task Chart_deployment_matches_kustomize_deployment()
    {
        var kustomized = (await Manifests.KustomizeDefaultAsync()).Single("Deployment", "kwarm");
        var deployment = Manifests.RenderChart().Single("Deployment", "kwarm");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        var kustomizedPod = kustomized["spec"]!["template"]!["spec"]!;
        var kustomizedContainer = kustomizedPod["containers"]![0]!;

        Assert.Equal(2, deployment["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("true", DeploymentShape.Flag(container, "leader-elect"));
        DeploymentShape.AssertRestricted(pod, container);
        DeploymentShape.AssertProbes(container, expectedPort: 8081);
        DeploymentShape.AssertCertificateMountedAtCertDir(pod, container, "kwarm-webhook-tls");
        DeploymentShape.AssertDownwardApiEnvironment(container);
        foreach (var field in new[] { "securityContext", "topologySpreadConstraints", "volumes" })
        {
            Assert.True(Manifests.SameTree(kustomizedPod[field], pod[field]), $"pod {field} differs");
        }

        foreach (var field in new[] { "securityContext", "resources", "env", "volumeMounts", "ports" })
        {
            Assert.True(Manifests.SameTree(kustomizedContainer[field], container[field]), $"container {field} differs");
        }

        Assert.True(Manifests.SameTree(kustomized["spec"]!["strategy"], deployment["spec"]!["strategy"]));
        // Flag values agree wherever kustomize sets them, but for the two the chart derives from the release.
        foreach (var arg in kustomizedContainer["args"]!.AsArray().Select(Manifests.Str))
        {
            var name = arg!.TrimStart('-').Split('=')[0];
            if (name is not ("namespace" or "tools-image"))
            {
                Assert.Equal(DeploymentShape.Flag(kustomizedContainer, name), DeploymentShape.Flag(container, name));
            }
        }

        Assert.Equal(Manifests.Namespace, DeploymentShape.Flag(container, "namespace"));
        Assert.Equal(Manifests.Str(container["image"]), DeploymentShape.Flag(container, "tools-image"));
    }

    [Fact]
    public void Chart_cert_manager_chain_equals_certs_directory()
    {
        var chart = Manifests.RenderChart();
        var certs = Manifests.Parse(File.ReadAllText(Manifests.InRepository("certs", "cert-manager.yaml")));

        Assert.Equal(4, certs.Count);
        foreach (var expected in certs)
        {
            var actual = chart.Single(Manifests.Kind(expected), Manifests.Name(expected));
            Assert.Equal(Manifests.NamespaceOf(expected), Manifests.NamespaceOf(actual));
            Assert.True(Manifests.SameTree(expected["spec"], actual["spec"]), $"{Manifests.Identity(expected)} spec differs");
        }
    }

    [Fact]
    public void Without_cert_manager_the_chart_uses_the_given_secret_and_ca_bundle()
    {
        var chart = Manifests.RenderChart(new JsonObject
        {
            ["certManager"] = new JsonObject { ["enabled"] = false },
            ["webhook"] = new JsonObject { ["tlsSecretName"] = "my-webhook-tls", ["caBundle"] = "LS0tLS1CRUdJTi==" },
        });

        Assert.DoesNotContain(chart, item => Manifests.Kind(item) is "Issuer" or "Certificate");
        var configuration = chart.Single("MutatingWebhookConfiguration", "kwarm");
        Assert.Null(configuration["metadata"]!["annotations"]);
        Assert.All(configuration["webhooks"]!.AsArray(), webhook => Assert.Equal("LS0tLS1CRUdJTi==", Manifests.Str(webhook!["clientConfig"]!["caBundle"])));
        Assert.Equal(3, configuration["webhooks"]!.AsArray().Count);
        var pod = chart.Single("Deployment", "kwarm")["spec"]!["template"]!["spec"]!;
        DeploymentShape.AssertCertificateMountedAtCertDir(pod, pod["containers"]![0]!, "my-webhook-tls");
    }

    [Fact]
    public void Values_reach_the_manifests()
    {
        var chart = Manifests.RenderChart(new JsonObject
        {
            ["replicas"] = 3,
            ["image"] = new JsonObject { ["repository"] = "registry.example.com/kwarm", ["tag"] = "v9.9.9" },
            ["priorityClassName"] = "system-cluster-critical",
            ["nodeSelector"] = new JsonObject { ["kubernetes.io/os"] = "linux" },
            ["tolerations"] = new JsonArray(new JsonObject { ["key"] = "dedicated", ["operator"] = "Exists" }),
            ["affinity"] = new JsonObject
            {
                ["nodeAffinity"] = new JsonObject
                {
                    ["requiredDuringSchedulingIgnoredDuringExecution"] = new JsonObject
                    {
                        ["nodeSelectorTerms"] = new JsonArray(new JsonObject
                        {
                            ["matchExpressions"] = new JsonArray(new JsonObject { ["key"] = "node-role.example.com/infra", ["operator"] = "Exists" }),
                        }),
                    },
                },
            },
            ["resources"] = new JsonObject
            {
                ["requests"] = new JsonObject { ["cpu"] = "250m", ["memory"] = "200Mi" },
                ["limits"] = new JsonObject { ["cpu"] = "1", ["memory"] = "400Mi" },
            },
            ["flags"] = new JsonObject { ["maxConcurrentPulls"] = 25, ["webhookCertDir"] = "/certs" },
            ["webhook"] = new JsonObject
            {
                ["failurePolicy"] = "Fail",
                ["timeoutSeconds"] = 10,
                ["namespaceSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["kwarm.io/webhook"] = "enabled" } },
            },
            ["podDisruptionBudget"] = new JsonObject { ["minAvailable"] = 2 },
        }, releaseNamespace: "ops");

        var deployment = chart.Single("Deployment", "kwarm");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        Assert.Equal(3, deployment["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("registry.example.com/kwarm:v9.9.9", Manifests.Str(container["image"]));
        Assert.Equal("registry.example.com/kwarm:v9.9.9", DeploymentShape.Flag(container, "tools-image"));
        Assert.Equal("system-cluster-critical", Manifests.Str(pod["priorityClassName"]));
        Assert.Equal("linux", Manifests.Str(pod["nodeSelector"]!["kubernetes.io/os"]));
        Assert.Equal("dedicated", Manifests.Str(pod["tolerations"]![0]!["key"]));
        Assert.Equal("node-role.example.com/infra", Manifests.Str(
            pod["affinity"]!["nodeAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]!["nodeSelectorTerms"]![0]!["matchExpressions"]![0]!["key"]));
        Assert.Equal(("250m", "200Mi", "1", "400Mi"), (Manifests.Str(container["resources"]!["requests"]!["cpu"]), Manifests.Str(container["resources"]!["requests"]!["memory"]),
            Manifests.Str(container["resources"]!["limits"]!["cpu"]), Manifests.Str(container["resources"]!["limits"]!["memory"])));
        Assert.Equal("25", DeploymentShape.Flag(container, "max-concurrent-pulls"));
        Assert.Equal("ops", DeploymentShape.Flag(container, "namespace"));
        DeploymentShape.AssertCertificateMountedAtCertDir(pod, container, "kwarm-webhook-tls");
        Assert.Equal(2, chart.Single("PodDisruptionBudget", "kwarm")["spec"]!["minAvailable"]!.GetValue<int>());

        // The webhook values reach every entry (Deployments, StatefulSets, DaemonSets) alike.
        var webhooks = chart.Single("MutatingWebhookConfiguration", "kwarm")["webhooks"]!.AsArray().Select(item => item!.AsObject()).ToList();
        Assert.Equal(WebhookShape.Entries.Select(entry => entry.Name), webhooks.Select(item => Manifests.Str(item["name"])));
        WebhookShape.AssertEntriesAgree(webhooks);
        foreach (var webhook in webhooks)
        {
            Assert.Equal("Fail", Manifests.Str(webhook["failurePolicy"]));
            Assert.Equal(10, webhook["timeoutSeconds"]!.GetValue<int>());
            Assert.Equal("enabled", Manifests.Str(webhook["namespaceSelector"]!["matchLabels"]!["kwarm.io/webhook"]));
            Assert.Equal("ops", Manifests.Str(webhook["clientConfig"]!["service"]!["namespace"]));
        }

        Assert.Equal("ops/kwarm-webhook", Manifests.Str(chart.Single("MutatingWebhookConfiguration", "kwarm")["metadata"]!["annotations"]!["cert-manager.io/inject-ca-from"]));
        Assert.Contains("kwarm-webhook.ops.svc", chart.Single("Certificate", "kwarm-webhook")["spec"]!["dnsNames"]!.AsArray().Select(Manifests.Str));
        Assert.Equal("ops", Manifests.NamespaceOf(chart.Single("Role", "kwarm-leader-election")));
    }

    [Fact]
    public void Default_namespace_selector_excludes_the_release_namespace()
    {
        var webhooks = Manifests.RenderChart(releaseNamespace: "platform").Single("MutatingWebhookConfiguration", "kwarm")["webhooks"]!.AsArray();

        Assert.Equal(3, webhooks.Count);
        foreach (var webhook in webhooks)
        {
            var expression = webhook!["namespaceSelector"]!["matchExpressions"]![0]!;
            Assert.Equal(["kube-system", "platform"], expression["values"]!.AsArray().Select(Manifests.Str));
        }
    }

    [Fact]
    public void Pre_delete_hook_releases_holds_with_the_documented_script_and_minimal_rights()
    {
        var chart = Manifests.RenderChart();

        var job = chart.Single("Job", "kwarm-release-holds");
        Assert.Equal("pre-delete", Manifests.Str(job["metadata"]!["annotations"]!["helm.sh/hook"]));
        var pod = job["spec"]!["template"]!["spec"]!;
        Assert.Equal("kwarm-release-holds", Manifests.Str(pod["serviceAccountName"]));
        Assert.Equal("docker.io/alpine/k8s:1.31.4", Manifests.Str(pod["containers"]![0]!["image"]));
        // The release namespace is labelled for the restricted Pod Security profile (docs/install.md): a hook pod
        // that broke it would be refused, and helm uninstall would fail. Pod-level settings count for every container.
        var hookContainer = pod["containers"]![0]!;
        Assert.True(pod["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.Equal("RuntimeDefault", Manifests.Str(pod["securityContext"]!["seccompProfile"]!["type"]));
        Assert.False(hookContainer["securityContext"]!["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Equal(["ALL"], hookContainer["securityContext"]!["capabilities"]!["drop"]!.AsArray().Select(Manifests.Str));
        Assert.Null(hookContainer["securityContext"]!["privileged"]);
        // Hook pods are never endpoints of Kwarm's Services.
        Assert.NotEqual("kwarm", Manifests.Str(job["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/name"]));

        var script = chart.Single("ConfigMap", "kwarm-release-holds")["data"]!["release-holds.sh"]!.GetValue<string>();
        Assert.Equal(File.ReadAllText(Path.Combine(Manifests.ChartDirectory, "files", "release-holds.sh")).TrimEnd(), script.TrimEnd());
        var hookRole = chart.Single("ClusterRole", "kwarm-release-holds");
        Assert.Equal(["apps|deployments,statefulsets,daemonsets|get,list,patch", "admissionregistration.k8s.io|mutatingwebhookconfigurations|delete"], Manifests.Rules(hookRole));
        Assert.Equal(["kwarm"], hookRole["rules"]![1]!["resourceNames"]!.AsArray().Select(Manifests.Str));
        var env = pod["containers"]![0]!["env"]!.AsArray();
        Assert.Equal("kwarm", Manifests.Str(env.Single(item => Manifests.Str(item!["name"]) == "WEBHOOK_CONFIGURATION")!["value"]));
        foreach (var item in chart.Where(item => Manifests.Name(item) == "kwarm-release-holds"))
        {
            Assert.Equal("pre-delete", Manifests.Str(item["metadata"]!["annotations"]!["helm.sh/hook"]));
        }

        Assert.DoesNotContain(Manifests.RenderChart(new JsonObject { ["uninstall"] = new JsonObject { ["releaseHolds"] = false } }), IsHook);
    }

    [Fact]
    public void Monitoring_objects_are_optional_and_equal_deploy_monitoring()
    {
        Assert.DoesNotContain(Manifests.RenderChart(), item => Manifests.Kind(item) is "ServiceMonitor" or "PrometheusRule");

        var chart = Manifests.RenderChart(new JsonObject
        {
            ["serviceMonitor"] = new JsonObject { ["enabled"] = true },
            ["prometheusRule"] = new JsonObject { ["enabled"] = true, ["labels"] = new JsonObject { ["release"] = "prometheus" } },
            ["grafanaDashboard"] = new JsonObject { ["enabled"] = true },
        });
        var monitoring = Manifests.InRepository("deploy", "monitoring");
        var rule = Manifests.Parse(File.ReadAllText(Path.Combine(monitoring, "prometheus-rule.yaml"))).Single();
        var monitor = Manifests.Parse(File.ReadAllText(Path.Combine(monitoring, "service-monitor.yaml"))).Single();

        var renderedRule = chart.Single("PrometheusRule", "kwarm");
        Assert.True(Manifests.SameTree(rule["spec"], renderedRule["spec"]));
        Assert.Equal("prometheus", Manifests.Str(renderedRule["metadata"]!["labels"]!["release"]));
        Assert.True(Manifests.SameTree(monitor["spec"], chart.Single("ServiceMonitor", "kwarm")["spec"]));
        var dashboard = chart.Single("ConfigMap", "kwarm-grafana-dashboard")["data"]!["kwarm.json"]!.GetValue<string>();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(Path.Combine(monitoring, "grafana-dashboard.json"))), JsonNode.Parse(dashboard)));
    }

    private static bool IsHook(JsonObject item) =>
        item["metadata"]?["annotations"]?["helm.sh/hook"] is not null || HookKinds.Contains(Manifests.Kind(item));
}
