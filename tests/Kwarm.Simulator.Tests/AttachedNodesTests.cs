using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// Simulated nodes attached to an API server through a kubeconfig, here the simulator's own (with no nodes of its
/// own): the same kubelets, talking HTTP. The real API server lane repeats this against kube-apiserver.
/// </summary>
public sealed class AttachedNodesTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<TestCluster> StartClusterAsync() => TestCluster.StartAsync(new SimulatorOptions { Nodes = 0, TimeFactor = 0.01 });

    private static AttachOptions Attach(TestCluster cluster, int nodes) => new()
    {
        KubeconfigPath = cluster.Cluster.KubeconfigPath,
        Nodes = nodes,
        Simulation = new SimulatorOptions { TimeFactor = 0.01 },
    };

    [Fact]
    public async Task Attached_nodes_register_and_run_a_deployment_reporting_images_like_containerd()
    {
        await using var cluster = await StartClusterAsync();
        await using var nodes = await AttachedNodes.StartAsync(Attach(cluster, 2), cancellationToken: Token);
        Assert.Equal(["kwarm-sim-0001", "kwarm-sim-0002"], nodes.NodeNames.Order(StringComparer.Ordinal));
        foreach (var name in nodes.NodeNames)
        {
            var node = cluster.Get("", "nodes", "", name)!;
            Assert.Equal("true", node.Str("metadata", "labels", "kwarm.io/simulated-node"));
            Assert.Equal("True", node.Objects("status", "conditions").Single(c => c.Str("type") == "Ready").Str("status"));
            Assert.Null(node.At("spec", "taints"));
            Assert.Equal(name, cluster.Get("coordination.k8s.io", "leases", "kube-node-lease", name)!.Str("spec", "holderIdentity"));
        }

        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "nginx:1.27.1", replicas: 4));
        await Eventually.WaitUntilAsync(() => cluster.Get("apps", "deployments", "shop", "web")?.Long("status", "availableReplicas") == 4, "four available replicas", TimeSpan.FromSeconds(60));
        var pods = cluster.List("", "pods", "shop");
        Assert.All(pods, pod => Assert.StartsWith("kwarm-sim-", pod.Str("spec", "nodeName"), StringComparison.Ordinal));
        Assert.All(pods, pod => Assert.Equal("docker.io/library/nginx:1.27.1", pod.Objects("status", "containerStatuses").Single().Str("image")));
        var used = pods.Select(p => p.Str("spec", "nodeName")!).Distinct().ToList();
        Assert.All(used, name => Assert.Contains(cluster.Get("", "nodes", "", name)!.Objects("status", "images"), i => i["names"]!.AsArray().Any(n => n!.GetValue<string>() == "docker.io/library/nginx:1.27.1")));
        Assert.Contains(cluster.List("", "events", "shop"), e => e.Str("reason") == "Pulled" && e.Str("source", "component") == "kubelet");
        Assert.Empty(nodes.Errors);
        Assert.Empty(cluster.Cluster.ControllerErrors);
    }

    [Fact]
    public async Task A_missing_image_backs_off_with_containerds_message_and_pull_secrets_are_read_through_the_API()
    {
        await using var cluster = await StartClusterAsync();
        await using var nodes = await AttachedNodes.StartAsync(Attach(cluster, 1), cancellationToken: Token);
        nodes.Registry.MarkMissing("registry.local/shop/web:typo");
        nodes.Registry.Add(new RegistryImage("registry.local/private/app:1", 1_000_000, Private: true));
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("typo", null, "registry.local/shop/web:typo"));
        await Eventually.WaitUntilAsync(() => Waiting(cluster, "typo")?.Str("reason") == "ImagePullBackOff", "ImagePullBackOff", TimeSpan.FromSeconds(30));
        Assert.Contains(cluster.List("", "events", "shop"), e => e.Str("message") == "Failed to pull image \"registry.local/shop/web:typo\": rpc error: code = NotFound desc = failed to pull and unpack image \"registry.local/shop/web:typo\": failed to resolve reference \"registry.local/shop/web:typo\": registry.local/shop/web:typo: not found");

        var docker = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("""{"auths":{"registry.local":{"auth":"dXNlcjpwYXNz"}}}"""));
        await cluster.CreateAsync("/api/v1/namespaces/shop/secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "regcred" },
            ["type"] = "kubernetes.io/dockerconfigjson",
            ["data"] = new JsonObject { [".dockerconfigjson"] = docker },
        });
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("private", JsonNode.Parse("""{"imagePullSecrets":[{"name":"regcred"}]}"""), "registry.local/private/app:1"));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "private")?.Str("status", "phase") == "Running", "the private image pulled with the secret", TimeSpan.FromSeconds(30));
        Assert.Empty(nodes.Errors);
    }

    [Fact]
    public async Task A_node_of_the_same_name_that_is_not_simulated_is_never_taken_over()
    {
        await using var cluster = await StartClusterAsync();
        await cluster.CreateAsync("/api/v1/nodes", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "kwarm-sim-0001" } });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AttachedNodes.StartAsync(Attach(cluster, 1), cancellationToken: Token));
        Assert.Contains("kwarm-sim-0001 already exists and is not a simulated node", error.Message, StringComparison.Ordinal);
        Assert.Null(cluster.Get("", "nodes", "", "kwarm-sim-0001")!.At("metadata", "labels", "kwarm.io/simulated-node"));
    }

    [Fact]
    public async Task A_restarted_node_takes_its_Node_back_with_its_images_and_running_pods()
    {
        await using var cluster = await StartClusterAsync();
        await cluster.CreateNamespaceAsync("shop");
        string? startedAt;
        await using (var first = await AttachedNodes.StartAsync(Attach(cluster, 1) with { NamePrefix = "again" }, cancellationToken: Token))
        {
            await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "nginx:1.27.1", replicas: 1));
            await Eventually.WaitUntilAsync(() => cluster.Get("apps", "deployments", "shop", "web")?.Long("status", "availableReplicas") == 1, "the pod available", TimeSpan.FromSeconds(30));
            Assert.Single(first.Pulls);
            startedAt = cluster.List("", "pods", "shop").Single().Objects("status", "containerStatuses").Single().Str("state", "running", "startedAt");
        }

        await using var second = await AttachedNodes.StartAsync(Attach(cluster, 1) with { NamePrefix = "again" }, cancellationToken: Token);
        Assert.Equal(["again-0001"], second.NodeNames);
        Assert.Contains("docker.io/library/nginx:1.27.1", second.CachedImages("again-0001"));
        Assert.Contains(cluster.Get("", "nodes", "", "again-0001")!.Objects("status", "images"), i => i["names"]!.AsArray().Any(n => n!.GetValue<string>() == "docker.io/library/nginx:1.27.1"));

        // Another pod of the same image on the restarted node needs no pull; the running one was left running.
        await cluster.CreateAsync("/api/v1/namespaces/shop/pods", ControllerTests.Pod("more", null, "nginx:1.27.1"));
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "shop", "more")?.Str("status", "phase") == "Running", "the second pod running", TimeSpan.FromSeconds(30));
        Assert.Empty(second.Pulls);
        var web = cluster.List("", "pods", "shop").Single(p => p.Str("metadata", "name")!.StartsWith("web-", StringComparison.Ordinal));
        Assert.Equal(startedAt, web.Objects("status", "containerStatuses").Single().Str("state", "running", "startedAt"));
        Assert.Empty(second.Errors);
    }

    [Fact]
    public async Task The_nodes_command_attaches_until_terminated_and_can_delete_its_nodes()
    {
        await using var cluster = await StartClusterAsync();
        await using var command = SimulatorProcess.Start("nodes", "--kubeconfig", cluster.Cluster.KubeconfigPath, "--nodes", "2", "--name-prefix", "cli", "--time-factor", "0.01", "--delete-nodes-on-exit");
        // Stopped once it says its nodes are attached, as a person would (a stop during registration is a clean stop too).
        await Eventually.WaitUntilAsync(() => command.Out.Contains("2 simulated nodes attached to", StringComparison.Ordinal) || command.HasExited, "the command's nodes attached", TimeSpan.FromSeconds(60));
        Assert.False(command.HasExited, command.Error);
        Assert.Equal(2, cluster.List("", "nodes").Count(n => n.Str("metadata", "name")!.StartsWith("cli-", StringComparison.Ordinal) && n.At("spec", "taints") is null));

        var exitCode = await command.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"exit {exitCode}\n{command.Out}\n{command.Error}");
        Assert.Empty(cluster.List("", "nodes"));
    }

    [Theory]
    [InlineData("nodes: --kubeconfig PATH is required (see --help)", "nodes")]
    [InlineData("nodes: unknown flag --bogus (see --help)", "nodes", "--kubeconfig", "x", "--bogus", "1")]
    [InlineData("invalid attach options: kubeconfig /nonexistent/kubeconfig does not exist", "nodes", "--kubeconfig", "/nonexistent/kubeconfig")]
    public async Task Bad_nodes_flags_exit_2_with_one_line(string line, params string[] args)
    {
        await using var command = SimulatorProcess.Start(args);
        Assert.Equal(2, await command.ExitCodeAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(line, command.Error.TrimEnd('\n'));
    }

    private static JsonObject? Waiting(TestCluster cluster, string pod) =>
        cluster.Get("", "pods", "shop", pod)?.Objects("status", "containerStatuses").FirstOrDefault()?.At("state", "waiting") as JsonObject;
}
