using System.Text.Json.Nodes;

namespace Kwarm.Tests.Deploy;

/// <summary><c>kubectl kustomize deploy/kustomize/default</c>: what a kubectl user installs.</summary>
public sealed class KustomizeDefaultTests
{
    /// <summary>The ClusterRole of the issue, rule for rule: no Secrets, no wildcard, nothing more.</summary>
    internal static readonly string[] ExpectedClusterRules =
    [
        // The three kinds Kwarm holds (issue #16): watched, and released with one patch each.
        "apps|deployments,statefulsets,daemonsets|list,watch,patch",
        "kwarm.io|prepullpolicies|list,watch",
        "kwarm.io|prepullpolicies/status|patch",
        "kwarm.io|prepullimages|list,watch,create,delete",
        "kwarm.io|prepullimages/status|update",
        "batch|jobs|create,delete,list,watch",
        "|pods|list,watch",
        // patch: the warm-up controller lifts the warming taint (issue #17); nothing else is ever written to a node.
        "|nodes|list,watch,patch",
        "|serviceaccounts|list,watch",
        // Not in the issue's list: the Kubernetes plumbing (src/Kwarm/Kubernetes) runs a Namespace informer.
        "|namespaces|list,watch",
        "|events|create",
    ];

    [Fact]
    public async Task Renders_the_namespace_and_both_crds()
    {
        var objects = await Manifests.KustomizeDefaultAsync();

        var ns = objects.Single("Namespace", Manifests.Namespace);
        Assert.Equal("restricted", Manifests.Str(ns["metadata"]!["labels"]!["pod-security.kubernetes.io/enforce"]));
        var crds = objects.Where(item => Manifests.Kind(item) == "CustomResourceDefinition").Select(Manifests.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["prepullimages.kwarm.io", "prepullpolicies.kwarm.io"], crds);
        // The rendered CRDs are the files of deploy/crds, unchanged.
        foreach (var file in Directory.GetFiles(Manifests.InRepository("deploy", "crds"), "kwarm.io_*.yaml"))
        {
            var expected = Manifests.Parse(File.ReadAllText(file)).Single();
            Assert.True(Manifests.SameTree(expected, objects.Single("CustomResourceDefinition", Manifests.Name(expected))), file);
        }
    }

    [Fact]
    public async Task Every_namespaced_object_lives_in_kwarm_system()
    {
        var objects = await Manifests.KustomizeDefaultAsync();
        var clusterScoped = new HashSet<string>(StringComparer.Ordinal)
        {
            "Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration",
        };

        foreach (var item in objects)
        {
            Assert.Equal(clusterScoped.Contains(Manifests.Kind(item)) ? null : Manifests.Namespace, Manifests.NamespaceOf(item));
        }
    }

    [Fact]
    public async Task Cluster_role_grants_exactly_the_listed_rules_and_no_secrets()
    {
        var objects = await Manifests.KustomizeDefaultAsync();
        var roles = objects.Where(item => Manifests.Kind(item) == "ClusterRole").ToList();

        var role = Assert.Single(roles);
        Assert.Equal("kwarm", Manifests.Name(role));
        Assert.Equal(ExpectedClusterRules, Manifests.Rules(role));
        var everything = string.Join('\n', objects.Where(item => Manifests.Kind(item) is "ClusterRole" or "Role").SelectMany(Manifests.Rules));
        Assert.DoesNotContain("secrets", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("*", everything, StringComparison.Ordinal);

        var binding = objects.Single("ClusterRoleBinding", "kwarm");
        Assert.Equal("kwarm", Manifests.Str(binding["roleRef"]!["name"]));
        var subject = Assert.Single(binding["subjects"]!.AsArray())!;
        Assert.Equal(("ServiceAccount", "kwarm", Manifests.Namespace), (Manifests.Str(subject["kind"]), Manifests.Str(subject["name"]), Manifests.Str(subject["namespace"])));
        objects.Single("ServiceAccount", "kwarm");
    }

    [Fact]
    public async Task Leases_are_granted_only_in_kwarm_system()
    {
        var objects = await Manifests.KustomizeDefaultAsync();

        var role = Assert.Single(objects, item => Manifests.Kind(item) == "Role");
        Assert.Equal(Manifests.Namespace, Manifests.NamespaceOf(role));
        Assert.Equal(["coordination.k8s.io|leases|get,create,update"], Manifests.Rules(role));
        var binding = objects.Single("RoleBinding", "kwarm-leader-election");
        Assert.Equal(Manifests.Namespace, Manifests.NamespaceOf(binding));
        Assert.Equal(Manifests.Name(role), Manifests.Str(binding["roleRef"]!["name"]));
        Assert.Equal("kwarm", Manifests.Str(binding["subjects"]![0]!["name"]));
    }

    [Fact]
    public async Task Deployment_runs_two_restricted_replicas_with_leader_election_and_probes()
    {
        var objects = await Manifests.KustomizeDefaultAsync();
        var deployment = objects.Single("Deployment", "kwarm");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = Assert.Single(pod["containers"]!.AsArray())!;

        Assert.Equal(2, deployment["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("kwarm", Manifests.Str(pod["serviceAccountName"]));
        var args = container["args"]!.AsArray().Select(Manifests.Str).ToList();
        Assert.Contains("--leader-elect", args);
        Assert.Contains("--namespace=$(POD_NAMESPACE)", args);
        DeploymentShape.AssertRestricted(pod, container);
        DeploymentShape.AssertProbes(container, expectedPort: 8081);
        DeploymentShape.AssertCertificateMountedAtCertDir(pod, container, "kwarm-webhook-tls");
        DeploymentShape.AssertDownwardApiEnvironment(container);

        var resources = container["resources"]!;
        Assert.Equal(("100m", "128Mi", "1000m", "512Mi"), (Manifests.Str(resources["requests"]!["cpu"]), Manifests.Str(resources["requests"]!["memory"]),
            Manifests.Str(resources["limits"]!["cpu"]), Manifests.Str(resources["limits"]!["memory"])));
        var spread = Assert.Single(pod["topologySpreadConstraints"]!.AsArray())!;
        Assert.Equal("kubernetes.io/hostname", Manifests.Str(spread["topologyKey"]));
        Assert.Equal("kwarm", Manifests.Str(spread["labelSelector"]!["matchLabels"]!["app.kubernetes.io/name"]));
    }

    [Fact]
    public async Task Webhook_configuration_matches_the_design()
    {
        var objects = await Manifests.KustomizeDefaultAsync();

        var configuration = objects.Single("MutatingWebhookConfiguration", "kwarm");
        WebhookShape.AssertDesignSettings(configuration, Manifests.Namespace);
        Assert.Equal($"{Manifests.Namespace}/kwarm-webhook", Manifests.Str(configuration["metadata"]!["annotations"]!["cert-manager.io/inject-ca-from"]));
        WebhookShape.AssertServiceReachesContainerPort(objects, "kwarm-webhook", 443, "webhook");
        WebhookShape.AssertServiceReachesContainerPort(objects, "kwarm-metrics", 8080, "metrics");
    }

    /// <summary>
    /// The kubectl install includes the canonical manifests of deploy/webhook, deploy/rbac and certs/ rather than
    /// copies of them, so a change there reaches every install path: each of their objects is rendered unchanged.
    /// </summary>
    [Theory]
    [InlineData("deploy/webhook")]
    [InlineData("deploy/rbac")]
    [InlineData("certs")]
    public async Task Renders_the_canonical_manifests_of_a_directory_unchanged(string directory)
    {
        var objects = await Manifests.KustomizeDefaultAsync();
        var files = Directory.GetFiles(Manifests.InRepository(directory.Split('/')), "*.yaml").Where(file => Path.GetFileName(file) != "kustomization.yaml").ToList();

        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            foreach (var expected in Manifests.Parse(File.ReadAllText(file)))
            {
                var rendered = objects.Single(Manifests.Kind(expected), Manifests.Name(expected));
                Assert.True(Manifests.SameTree(expected, rendered), $"{Manifests.Identity(expected)} of {file} is rendered changed or from another copy");
            }
        }
    }

    [Fact]
    public async Task Cert_manager_issues_the_serving_certificate_the_deployment_mounts()
    {
        var objects = await Manifests.KustomizeDefaultAsync();

        objects.Single("Issuer", "kwarm-selfsigned");
        objects.Single("Issuer", "kwarm-ca");
        objects.Single("Certificate", "kwarm-ca");
        var certificate = objects.Single("Certificate", "kwarm-webhook");
        Assert.Equal("kwarm-webhook-tls", Manifests.Str(certificate["spec"]!["secretName"]));
        Assert.Contains($"kwarm-webhook.{Manifests.Namespace}.svc", certificate["spec"]!["dnsNames"]!.AsArray().Select(Manifests.Str));
        Assert.Equal("kwarm-ca", Manifests.Str(certificate["spec"]!["issuerRef"]!["name"]));
    }

    [Fact]
    public async Task Disruption_budget_keeps_one_replica()
    {
        var objects = await Manifests.KustomizeDefaultAsync();

        var budget = objects.Single("PodDisruptionBudget", "kwarm");
        Assert.Equal(1, budget["spec"]!["minAvailable"]!.GetValue<int>());
        var pods = objects.Single("Deployment", "kwarm")["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        foreach (var (key, value) in budget["spec"]!["selector"]!["matchLabels"]!.AsObject())
        {
            Assert.Equal(Manifests.Str(value), Manifests.Str(pods[key]));
        }
    }
}
