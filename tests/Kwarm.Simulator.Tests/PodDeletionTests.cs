using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary>Pod deletion as kube-apiserver's pod strategy does it (measured on a real v1.24 server).</summary>
public sealed class PodDeletionTests
{
    [Fact]
    public async Task A_running_pod_stays_terminating_until_its_kubelet_confirms_and_others_go_at_once()
    {
        // API server only: no kubelet runs node "ghost", as when a node has died.
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateAsync("/api/v1/namespaces/default/pods", ControllerTests.Pod("bound", JsonNode.Parse("""{"nodeName":"ghost","terminationGracePeriodSeconds":45}""")));
        await cluster.CreateAsync("/api/v1/namespaces/default/pods", ControllerTests.Pod("unscheduled", null));
        await cluster.CreateAsync("/api/v1/namespaces/default/pods", ControllerTests.Pod("finished", JsonNode.Parse("""{"nodeName":"ghost"}""")));
        var finished = cluster.Get("", "pods", "default", "finished")!;
        finished["status"]!["phase"] = "Succeeded";
        Assert.Equal(HttpStatusCode.OK, (await cluster.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/pods/finished/status", finished)).Status);

        var (status, body) = await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/bound");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(45, body!["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<long>());
        var terminating = cluster.Get("", "pods", "default", "bound")!;
        var deadline = JsonPaths.ParseTimestamp(terminating.Str("metadata", "deletionTimestamp"))!.Value;
        Assert.InRange(deadline - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(46));

        // A longer grace period cannot extend it; a shorter one, down to 0 (force), ends it.
        await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/bound", JsonNode.Parse("""{"gracePeriodSeconds":60}"""));
        Assert.Equal(45, cluster.Get("", "pods", "default", "bound")!.Long("metadata", "deletionGracePeriodSeconds"));
        await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0");
        Assert.Null(cluster.Get("", "pods", "default", "bound"));

        await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/unscheduled");
        await cluster.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/finished");
        Assert.Null(cluster.Get("", "pods", "default", "unscheduled"));
        Assert.Null(cluster.Get("", "pods", "default", "finished"));
    }

    [Fact]
    public async Task New_pods_get_the_admission_of_a_real_API_server()
    {
        await using var cluster = await TestCluster.StartAsync();
        var pod = ControllerTests.Pod("admitted", JsonNode.Parse("""{"initContainers":[{"name":"init","image":"registry.local/tools:1"}]}"""));
        var created = await cluster.CreateAsync("/api/v1/namespaces/default/pods", pod);

        Assert.Equal("PreemptLowerPriority", created.Str("spec", "preemptionPolicy"));
        Assert.Equal(
            ["node.kubernetes.io/not-ready:NoExecute:300", "node.kubernetes.io/unreachable:NoExecute:300"],
            created.Objects("spec", "tolerations").Select(t => $"{t.Str("key")}:{t.Str("effect")}:{t.Long("tolerationSeconds")}"));
        var volume = Assert.Single(created.Objects("spec", "volumes"));
        Assert.Matches("^kube-api-access-[a-z0-9]{5}$", volume.Str("name"));
        Assert.Equal(["serviceAccountToken", "configMap", "downwardAPI"], volume.Objects("projected", "sources").Select(s => s.Select(p => p.Key).Single()));
        Assert.All(created.Objects("spec", "containers").Concat(created.Objects("spec", "initContainers")), c =>
            Assert.Equal(volume.Str("name"), c.Objects("volumeMounts").Single(m => m.Str("mountPath") == "/var/run/secrets/kubernetes.io/serviceaccount").Str("name")));

        // Opting out of the token, or tolerating the taints already, changes what is added.
        var optedOut = await cluster.CreateAsync("/api/v1/namespaces/default/pods", ControllerTests.Pod("opted-out", JsonNode.Parse("""{"automountServiceAccountToken":false,"tolerations":[{"operator":"Exists"}]}""")));
        Assert.Null(optedOut.At("spec", "volumes"));
        Assert.Single(optedOut.Objects("spec", "tolerations"));
    }
}
