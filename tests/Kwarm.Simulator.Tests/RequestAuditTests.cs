using k8s;
using k8s.Models;
using Kwarm.Simulator.Admission;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary>The audit records each call in RBAC's terms, per identity, so tests can compare callers with their roles.</summary>
public sealed class RequestAuditTests
{
    [Fact]
    public async Task Calls_are_counted_by_user_verb_resource_subresource_and_namespace()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01 }, ct);
        var operatorKubeconfig = await cluster.CreateKubeconfigAsync(UserInfo.ServiceAccount("kwarm-system", "kwarm"), cancellationToken: ct);
        using var admin = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.KubeconfigPath));
        using var operatorClient = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(operatorKubeconfig));
        cluster.Audit.Clear();

        await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "shop" } }, cancellationToken: ct);
        await operatorClient.CoreV1.ListNodeAsync(cancellationToken: ct);
        await operatorClient.CoreV1.ListNodeAsync(cancellationToken: ct);
        await operatorClient.CoreV1.ReadNamespaceAsync("shop", cancellationToken: ct);
        await operatorClient.CoreV1.PatchNamespaceAsync(
            new V1Patch("""{"metadata":{"labels":{"a":"b"}}}""", V1Patch.PatchType.MergePatch), "shop", cancellationToken: ct);
        await operatorClient.CoreV1.ListNamespacedPodAsync("shop", cancellationToken: ct);

        var audit = cluster.Audit.Snapshot();
        const string Operator = "system:serviceaccount:kwarm-system:kwarm";
        Assert.Equal(1, audit[new AuditedRequest("admin", "create", "", "namespaces", null, "")]);
        Assert.Equal(2, audit[new AuditedRequest(Operator, "list", "", "nodes", null, "")]);
        Assert.Equal(1, audit[new AuditedRequest(Operator, "get", "", "namespaces", null, "")]);
        Assert.Equal(1, audit[new AuditedRequest(Operator, "patch", "", "namespaces", null, "")]);
        Assert.Equal(1, audit[new AuditedRequest(Operator, "list", "", "pods", null, "shop")]);
        Assert.DoesNotContain(audit.Keys, call => call.User == Operator && call.Verb == "create");
    }

    [Theory]
    [InlineData("GET", false, true, "watch")]
    [InlineData("GET", false, false, "list")]
    [InlineData("GET", true, false, "get")]
    [InlineData("POST", false, false, "create")]
    [InlineData("PUT", true, false, "update")]
    [InlineData("PATCH", true, false, "patch")]
    [InlineData("DELETE", true, false, "delete")]
    [InlineData("DELETE", false, false, "deletecollection")]
    public void Http_methods_map_to_rbac_verbs(string method, bool hasName, bool watch, string verb) =>
        Assert.Equal(verb, RequestAudit.VerbOf(method, hasName, watch));
}
