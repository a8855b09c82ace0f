using k8s;
using k8s.Models;
using Kwarm.Resources;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;
using Kwarm.Tests.Resources;

namespace Kwarm.Tests.EndToEnd;

/// <summary>
/// Least privilege, checked against behaviour: Kwarm runs a whole hold (two image changes, the first superseded)
/// with leader election on, as service account kwarm-system/kwarm, and every API call it made is compared with
/// the ClusterRole and the leader-election Role of deploy/rbac: nothing it did is missing from them, and nothing in
/// them went unused.
/// </summary>
[Collection(OneSimulatedClusterAtATime.Name)]
public sealed class RbacUsageTests
{
    private const string Policy = EndToEndFiles.Policy;

    private static readonly string Deployment = EndToEndFiles.Deployment("registry.local/shop/web:1");

    /// <summary>
    /// Grants this run cannot use. <c>patch nodes</c> lifts the warming taint of a joining node (issue #17): that needs the
    /// warm-up controller and a node that joins with the taint, which this hold run does not have. Drop the entry once the
    /// run adds such a node; it must stay a grant of the ClusterRole, checked below.
    /// </summary>
    private static readonly string[] NotExercisedHere = ["patch nodes"];

    [Fact]
    public async Task Kwarm_uses_exactly_the_permissions_its_roles_grant()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var installed = await KwarmTestCluster.StartAsync(new SimulatorOptions { Nodes = 4, TimeFactor = 0.01 });
        // The first new image pulls slowly, so the second change lands while the first hold is still pulling.
        installed.Cluster.Registry.Add(new RegistryImage("registry.local/shop/web:2-slow", 20_000_000_000));
        installed.Cluster.Registry.Add(new RegistryImage("registry.local/shop/web:3", 50_000_000));
        await installed.StartKwarmAsync("--leader-elect");
        var kubectl = installed.Kubectl;
        await kubectl.SucceedAsync("create", "namespace", "shop");
        await EndToEndFiles.ApplyAsync(kubectl, Policy);
        await EndToEndFiles.ApplyAsync(kubectl, Deployment);
        await kubectl.SucceedAsync("-n", "shop", "rollout", "status", "deployment/web", "--timeout=60s");

        await WaitUntilHeldAsync(kubectl, "registry.local/shop/web:2-slow");
        await Eventually.WaitUntilAsync(async () => (await PrePullImagesAsync(installed)).Count > 0, "the first hold's PrePullImages", TimeSpan.FromSeconds(60));
        await kubectl.SucceedAsync("-n", "shop", "set", "image", "deployment/web", "web=registry.local/shop/web:3");
        var secondHold = Kwarm.Workloads.HoldId.For(["registry.local/shop/web:3"]);
        await Eventually.WaitUntilAsync(
            async () => (await installed.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "shop", cancellationToken: ct)).Metadata.Annotations
                is { } annotations && annotations.TryGetValue(KwarmApi.ReleasedAnnotation, out var released) && released == secondHold,
            "the second hold's release",
            TimeSpan.FromSeconds(60));
        await kubectl.SucceedAsync("-n", "shop", "rollout", "status", "deployment/web", "--timeout=60s");

        // A StatefulSet and a DaemonSet held and released too: their release is what uses the patch grants.
        await EndToEndFiles.ApplyAsync(kubectl, HeldKinds("registry.local/shop/web:1"));
        await kubectl.SucceedAsync("-n", "shop", "rollout", "status", "statefulset/db", "--timeout=60s");
        await kubectl.SucceedAsync("-n", "shop", "rollout", "status", "daemonset/agent", "--timeout=60s");
        await kubectl.SucceedAsync("-n", "shop", "set", "image", "statefulset/db", "db=registry.local/shop/web:3");
        await kubectl.SucceedAsync("-n", "shop", "set", "image", "daemonset/agent", "agent=registry.local/shop/web:3");
        foreach (var workload in new[] { "statefulset/db", "daemonset/agent" })
        {
            await Eventually.WaitUntilAsync(
                async () => await kubectl.SucceedAsync("-n", "shop", "get", workload, "-o", @"jsonpath={.metadata.annotations.kwarm\.io/released}") == secondHold,
                "the release of " + workload,
                TimeSpan.FromSeconds(60));
        }

        var calls = installed.Cluster.Audit.Snapshot().Keys.Where(call => call.User == KwarmTestCluster.OperatorUser).ToList();
        var grants = Grants();
        var missing = calls.Where(call => !grants.Any(grant => grant.Allows(call))).Select(Describe).Distinct().Order().ToList();
        var unused = grants.SelectMany(grant => grant.Verbs.Select(verb => (grant, verb)))
            .Where(pair => !calls.Any(call => pair.grant.Allows(call) && call.Verb == pair.verb))
            .Select(pair => $"{pair.verb} {pair.grant.Resource}")
            .Except(NotExercisedHere)
            .Order()
            .ToList();
        var granted = grants.SelectMany(grant => grant.Verbs.Select(verb => $"{verb} {grant.Resource}")).ToHashSet(StringComparer.Ordinal);
        Assert.All(NotExercisedHere, exempt => Assert.Contains(exempt, granted));

        Assert.True(missing.Count == 0, "Kwarm made calls its roles do not grant:\n" + string.Join('\n', missing));
        Assert.True(unused.Count == 0, "Kwarm's roles grant what it never used:\n" + string.Join('\n', unused));
    }

    private static string HeldKinds(string image) => $$$"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: shop, labels: {kwarm.io/enabled: "true"}}
        spec:
          replicas: 2
          serviceName: db
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: db, image: "{{{image}}}"}]}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent, namespace: shop, labels: {kwarm.io/enabled: "true"}}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {containers: [{name: agent, image: "{{{image}}}"}]}
        """;

    /// <summary>One resource and its verbs from a rule; a Role's grants hold only in its namespace.</summary>
    private sealed record Grant(string Group, string Resource, IReadOnlyList<string> Verbs, string? Namespace)
    {
        public bool Allows(AuditedRequest call) =>
            call.Group == Group
            && Resource == (call.Subresource is null ? call.Resource : $"{call.Resource}/{call.Subresource}")
            && Verbs.Contains(call.Verb)
            && (Namespace is null || call.Namespace == Namespace);
    }

    private static List<Grant> Grants()
    {
        var rbac = Path.Combine(RepositoryFiles.Root, "deploy", "rbac");
        var clusterRole = KubernetesYaml.Deserialize<V1ClusterRole>(File.ReadAllText(Path.Combine(rbac, "cluster-role.yaml")));
        var role = KubernetesYaml.Deserialize<V1Role>(File.ReadAllText(Path.Combine(rbac, "leader-election-role.yaml")));
        return clusterRole.Rules.Select(rule => (rule, (string?)null))
            .Concat(role.Rules.Select(rule => (rule, (string?)role.Metadata.NamespaceProperty)))
            .SelectMany(entry => entry.rule.ApiGroups.SelectMany(group => entry.rule.Resources.Select(resource =>
                new Grant(group, resource, [.. entry.rule.Verbs], entry.Item2))))
            .ToList();
    }

    private static string Describe(AuditedRequest call) =>
        $"{call.Verb} {(call.Group.Length == 0 ? "" : call.Group + "/")}{call.Resource}{(call.Subresource is null ? "" : "/" + call.Subresource)}" +
        (call.Namespace.Length == 0 ? "" : $" in {call.Namespace}");

    private static async Task<IList<PrePullImage>> PrePullImagesAsync(KwarmTestCluster installed)
    {
        var list = await installed.Client.CustomObjects.ListNamespacedCustomObjectAsync<CustomResourceList<PrePullImage>>(
            KwarmApi.Group, KwarmApi.Version, "shop", PrePullImage.KubePluralName, cancellationToken: TestContext.Current.CancellationToken);
        return list.Items;
    }

    /// <summary>Sets the image until the webhook holds it: the policy may reach Kwarm's cache a moment after it was applied.</summary>
    private static async Task WaitUntilHeldAsync(Kubectl kubectl, string image)
    {
        await Eventually.WaitUntilAsync(
            async () => await kubectl.SucceedAsync(
                "-n", "shop", "set", "image", "deployment/web", $"web={image}", "--dry-run=server", "-o", "jsonpath={.spec.paused}") == "true",
            "the webhook to see the policy",
            TimeSpan.FromSeconds(60));
        await kubectl.SucceedAsync("-n", "shop", "set", "image", "deployment/web", $"web={image}");
    }

    private sealed record CustomResourceList<T>(IList<T> Items);
}
