using k8s;
using k8s.Models;
using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.EndToEnd;

namespace Kwarm.Tests.RealApiServer;

/// <summary>The real control plane itself: what the scenarios on it take for granted.</summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
public sealed class ControlPlaneTests(RealControlPlaneFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_Deployment_gets_a_ReplicaSet_and_pods_that_the_scheduler_binds_to_a_registered_node()
    {
        var plane = fixture.Require();
        var client = plane.AdminClient;
        const string Namespace = "envtest-smoke";
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: Token);
        await client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "smoke-node", Labels = new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" } } }, cancellationToken: Token);
        var status = new V1Node
        {
            Status = new V1NodeStatus
            {
                Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", LastHeartbeatTime = DateTime.UtcNow, LastTransitionTime = DateTime.UtcNow }],
                Capacity = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("4"), ["memory"] = new("8Gi"), ["pods"] = new("110") },
                Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("4"), ["memory"] = new("8Gi"), ["pods"] = new("110") },
            },
        };
        await client.CoreV1.PatchNodeStatusAsync(new V1Patch(KubernetesJson.Serialize(status), V1Patch.PatchType.MergePatch), "smoke-node", cancellationToken: Token);
        // The API server taints a new node not-ready; a kubelet removes the taint once it reports Ready.
        await client.CoreV1.PatchNodeAsync(new V1Patch("""{"spec":{"taints":null}}""", V1Patch.PatchType.MergePatch), "smoke-node", cancellationToken: Token);

        await new Kubectl(plane.AdminKubeconfig).SucceedAsync("-n", Namespace, "create", "deployment", "web", "--image=registry.local/shop/web:1", "--replicas=2");

        await Eventually.WaitUntilAsync(async () =>
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync(Namespace, cancellationToken: Token);
            return pods.Items.Count == 2 && pods.Items.All(pod => pod.Spec.NodeName == "smoke-node");
        }, "two pods bound to smoke-node", TimeSpan.FromSeconds(60), () => plane.Logs);
        var replicaSet = Assert.Single((await client.AppsV1.ListNamespacedReplicaSetAsync(Namespace, cancellationToken: Token)).Items);
        Assert.Equal("web", replicaSet.Metadata.OwnerReferences.Single().Name);
    }

    [Fact]
    public async Task A_service_account_token_from_TokenRequest_is_held_to_RBAC()
    {
        var plane = fixture.Require();
        var kubectl = new Kubectl(plane.AdminKubeconfig);
        await kubectl.SucceedAsync("create", "namespace", "envtest-rbac");
        await kubectl.SucceedAsync("-n", "envtest-rbac", "create", "serviceaccount", "reader");
        await kubectl.SucceedAsync("-n", "envtest-rbac", "create", "role", "pod-reader", "--verb=get,list", "--resource=pods");
        await kubectl.SucceedAsync("-n", "envtest-rbac", "create", "rolebinding", "reader", "--role=pod-reader", "--serviceaccount=envtest-rbac:reader");
        var token = (await kubectl.SucceedAsync("-n", "envtest-rbac", "create", "token", "reader")).Trim();
        var reader = new Kubectl(plane.TokenKubeconfig("reader", token));

        Assert.Equal("yes", (await reader.SucceedAsync("auth", "can-i", "list", "pods", "-n", "envtest-rbac")).Trim());
        var denied = await reader.RunAsync("-n", "envtest-rbac", "create", "configmap", "x", "--from-literal=a=b");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("forbidden", denied.Error, StringComparison.Ordinal);
    }

}
