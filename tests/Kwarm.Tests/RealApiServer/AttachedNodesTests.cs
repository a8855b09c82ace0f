using System.Diagnostics;
using System.Text;
using k8s;
using k8s.Models;
using Kwarm.Simulator.Attached;
using Kwarm.Simulator.Hosting;
using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.EndToEnd;

namespace Kwarm.Tests.RealApiServer;

/// <summary>
/// The simulator's nodes attached to a real control plane (kube-apiserver, kube-controller-manager and kube-scheduler
/// v1.24): the real scheduler binds pods to them, the real controllers roll Deployments out on them. They attach
/// with the admin kubeconfig (see the simulator README for the permissions an identity needs).
/// Every test deletes its nodes at the end so the other tests of the shared control plane never schedule onto them.
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
public sealed class AttachedNodesTests(RealControlPlaneFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static AttachOptions Attach(ControlPlane plane, string prefix, int nodes, double timeFactor = 0.1) => new()
    {
        KubeconfigPath = plane.AdminKubeconfig,
        Nodes = nodes,
        NamePrefix = prefix,
        Simulation = new SimulatorOptions { TimeFactor = timeFactor },
    };

    [Fact]
    public async Task The_nodes_command_registers_nodes_that_become_Ready_with_the_not_ready_taint_removed()
    {
        var plane = fixture.Require();
        var client = plane.AdminClient;

        // What the simulated kubelets must undo: the real API server taints every new Node not-ready.
        var bare = await client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "bare-taint-probe" } }, cancellationToken: Token);
        await client.CoreV1.DeleteNodeAsync("bare-taint-probe", cancellationToken: Token);
        Assert.Equal(("node.kubernetes.io/not-ready", "NoSchedule"), (bare.Spec.Taints.Single().Key, bare.Spec.Taints.Single().Effect));

        try
        {
            await using var command = SimulatorProcess.Start("nodes", "--kubeconfig", plane.AdminKubeconfig, "--nodes", "3", "--name-prefix", "real-cli", "--time-factor", "0.1", "--delete-nodes-on-exit");
            await Eventually.WaitUntilAsync(() => Task.FromResult(command.Out.Contains("3 simulated nodes attached to", StringComparison.Ordinal) || command.HasExited), "the command's nodes attached", TimeSpan.FromSeconds(90), () => $"{command.Out}\n{command.Error}\n{plane.Logs}");
            Assert.False(command.HasExited, command.Out + command.Error);

            var nodes = await SimulatedNodesAsync(client, "real-cli-");
            Assert.All(nodes, node => Assert.True(IsReadyAndUntainted(node), $"{node.Metadata.Name} Ready without taints"));
            Assert.Equal(["real-cli-0001", "real-cli-0002", "real-cli-0003"], nodes.Select(n => n.Metadata.Name).Order(StringComparer.Ordinal));
            Assert.All(nodes, node =>
            {
                Assert.Equal("amd64", node.Status.NodeInfo.Architecture);
                Assert.Equal("4", node.Status.Allocatable["cpu"].ToString());
                Assert.Equal("110", node.Status.Capacity["pods"].ToString());
            });
            var leases = await client.CoordinationV1.ListNamespacedLeaseAsync("kube-node-lease", cancellationToken: Token);
            Assert.All(nodes, node => Assert.Contains(leases.Items, lease => lease.Metadata.Name == node.Metadata.Name && lease.Metadata.OwnerReferences.Single().Uid == node.Metadata.Uid));

            Assert.Equal(0, await command.TerminateAsync(TimeSpan.FromSeconds(30)));
            Assert.Empty(await SimulatedNodesAsync(client, "real-cli-"));
        }
        finally
        {
            // A failed run leaves no node behind for the other tests (the command deletes its own only on a clean stop).
            foreach (var node in await SimulatedNodesAsync(client, "real-cli-"))
            {
                await client.CoreV1.DeleteNodeAsync(node.Metadata.Name, cancellationToken: CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task A_Deployment_is_scheduled_onto_attached_nodes_pulled_like_containerd_rolled_out_and_removed_with_its_pods()
    {
        var plane = fixture.Require();
        var client = plane.AdminClient;
        const string Namespace = "attached-rollout";
        await using var nodes = await AttachedNodes.StartAsync(Attach(plane, "real-roll", 2), cancellationToken: Token);
        try
        {
            nodes.Registry.Add(new Kwarm.Simulator.Nodes.RegistryImage("nginx:1.27.1", 70_000_000));
            var kubectl = new Kubectl(plane.AdminKubeconfig);
            await kubectl.SucceedAsync("create", "namespace", Namespace);
            await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "nginx:1.27.1", replicas: 3), Namespace, cancellationToken: Token);

            var rollout = await kubectl.RunAsync(TimeSpan.FromSeconds(120), "-n", Namespace, "rollout", "status", "deployment/web", "--timeout=100s");
            Assert.True(rollout.ExitCode == 0, $"{rollout}\n{string.Join("\n", nodes.Errors)}\n{plane.Logs}");
            Assert.Contains("successfully rolled out", rollout.Out, StringComparison.Ordinal);

            var pods = (await client.CoreV1.ListNamespacedPodAsync(Namespace, cancellationToken: Token)).Items;
            Assert.Equal(3, pods.Count);
            Assert.All(pods, pod =>
            {
                Assert.StartsWith("real-roll-", pod.Spec.NodeName, StringComparison.Ordinal);
                Assert.Equal("Running", pod.Status.Phase);
                var container = pod.Status.ContainerStatuses.Single();
                Assert.Equal("docker.io/library/nginx:1.27.1", container.Image);
                Assert.StartsWith("docker.io/library/nginx@sha256:", container.ImageID, StringComparison.Ordinal);
                Assert.True(container.Ready);
            });

            // status.images grew on every node that ran a pod, with containerd's names: repo digest, then the tag.
            var digest = pods[0].Status.ContainerStatuses.Single().ImageID;
            foreach (var name in pods.Select(p => p.Spec.NodeName).Distinct())
            {
                var node = await client.CoreV1.ReadNodeAsync(name, cancellationToken: Token);
                var image = Assert.Single(node.Status.Images, i => i.Names.Contains("docker.io/library/nginx:1.27.1"));
                Assert.Equal([digest, "docker.io/library/nginx:1.27.1"], image.Names);
                Assert.Equal(70_000_000, image.SizeBytes);
            }

            // The real garbage collector deletes the pods gracefully; the kubelets confirm once the containers stopped.
            await kubectl.SucceedAsync("-n", Namespace, "delete", "deployment", "web", "--wait=false");
            await Eventually.WaitUntilAsync(async () => (await client.CoreV1.ListNamespacedPodAsync(Namespace, cancellationToken: Token)).Items.Count == 0, "the Deployment's pods gone", TimeSpan.FromSeconds(90), () => plane.Logs);
            Assert.Empty(nodes.Errors);
        }
        finally
        {
            await nodes.DeleteNodesAsync(Token);
        }
    }

    [Fact]
    public async Task A_missing_image_gives_ErrImagePull_then_ImagePullBackOff_with_containerds_message()
    {
        var plane = fixture.Require();
        var client = plane.AdminClient;
        const string Namespace = "attached-missing";
        const string Image = "registry.local/shop/web:typo";
        await using var nodes = await AttachedNodes.StartAsync(Attach(plane, "real-miss", 1, timeFactor: 1), cancellationToken: Token);
        try
        {
            nodes.Registry.MarkMissing(Image);
            await new Kubectl(plane.AdminKubeconfig).SucceedAsync("create", "namespace", Namespace);
            await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("typo", Image, replicas: 1), Namespace, cancellationToken: Token);

            // ErrImagePull shows for a (simulated) second before the back-off: look often enough to see it.
            var reasons = new List<string>();
            V1ContainerStateWaiting? waiting = null;
            await Eventually.WaitUntilAsync(async () =>
            {
                var pod = (await client.CoreV1.ListNamespacedPodAsync(Namespace, cancellationToken: Token)).Items.SingleOrDefault();
                waiting = pod?.Status?.ContainerStatuses?.SingleOrDefault()?.State?.Waiting;
                if (waiting?.Reason is { } reason && (reasons.Count == 0 || reasons[^1] != reason))
                {
                    reasons.Add(reason);
                }

                return reasons.Contains("ErrImagePull") && reasons[^1] == "ImagePullBackOff";
            }, "ErrImagePull then ImagePullBackOff", TimeSpan.FromSeconds(90), () => plane.Logs);

            Assert.Equal($"Back-off pulling image \"{Image}\"", waiting!.Message);
            var events = (await client.CoreV1.ListNamespacedEventAsync(Namespace, cancellationToken: Token)).Items;
            Assert.Contains(events, e => e.Reason == "Failed" && e.Message == $"Failed to pull image \"{Image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{Image}\": failed to resolve reference \"{Image}\": {Image}: not found");
            Assert.Contains(events, e => e.Reason == "Failed" && e.Message == "Error: ErrImagePull");
            Assert.Contains(events, e => e.Reason == "BackOff" && e.Source.Component == "kubelet" && e.Source.Host == "real-miss-0001");

            await client.AppsV1.DeleteNamespacedDeploymentAsync("typo", Namespace, cancellationToken: Token);
            await Eventually.WaitUntilAsync(async () => (await client.CoreV1.ListNamespacedPodAsync(Namespace, cancellationToken: Token)).Items.Count == 0, "the pod gone", TimeSpan.FromSeconds(90), () => plane.Logs);
            Assert.Empty(nodes.Errors);
        }
        finally
        {
            await nodes.DeleteNodesAsync(Token);
        }
    }

    private static V1Deployment Deployment(string name, string image, int replicas) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec
                {
                    // Only simulated nodes run pods here: other tests' bare nodes have no kubelet.
                    NodeSelector = new Dictionary<string, string> { ["kwarm.io/simulated-node"] = "true" },
                    Containers = [new V1Container { Name = name, Image = image }],
                },
            },
        },
    };

    private static async Task<List<V1Node>> SimulatedNodesAsync(IKubernetes client, string prefix) =>
        [.. (await client.CoreV1.ListNodeAsync(labelSelector: "kwarm.io/simulated-node=true", cancellationToken: Token)).Items.Where(n => n.Metadata.Name.StartsWith(prefix, StringComparison.Ordinal))];

    private static bool IsReadyAndUntainted(V1Node node) =>
        node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true && (node.Spec?.Taints is null || node.Spec.Taints.Count == 0);
}
