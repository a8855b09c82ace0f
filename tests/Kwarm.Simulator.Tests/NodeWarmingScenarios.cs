using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// Nodes that join warm (Kwarm issue #17) as the API server and the scheduler treat them, as one definition run
/// against two clusters: the simulator (<see cref="NodeWarmingTests"/>) and a real v1.24 control plane with simulated
/// nodes attached (<see cref="NodeWarmingRealApiServerTests"/>). A node joins with the startup taint
/// <c>kwarm.io/warming=true:NoSchedule</c>, from its kubelet or from a mutating webhook for <c>nodes</c> CREATE; it
/// takes only pods that tolerate the taint (pull pods), whose images it then lists in <c>status.images</c>; a JSON
/// Patch that tests the taint and removes it lets the other pods in, and one whose test no longer holds is refused.
/// Every node, namespace and webhook configuration is the test's own (<see cref="Unique"/>), and its pods select its
/// nodes by a label, so the other nodes of a shared cluster never count.
/// </summary>
public abstract class NodeWarmingScenarios : IAsyncLifetime
{
    // Kwarm's names for the taint (src/Kwarm/Resources/KwarmApi.cs): the simulator's tests do not reference the operator.
    protected const string WarmingTaintKey = "kwarm.io/warming";
    protected const string WarmingTaintValue = "true";
    protected const string WarmingTaintEffect = "NoSchedule";
    private const string NodeLabel = "node-warming-test";
    private const string Image = "registry.local/shop/web:1";
    private const string NotReadyTaintKey = "node.kubernetes.io/not-ready";

    private readonly List<string> _webhookConfigurations = [];
    private IKubernetes? _client;

    /// <summary>The cluster's admin client (owned by the backend).</summary>
    protected IKubernetes Client => _client ?? throw new InvalidOperationException("the cluster did not start");

    /// <summary>The namespace every scenario works in.</summary>
    protected string Namespace => Unique("warming");

    /// <summary>The label value the test's nodes carry under <see cref="NodeLabel"/> (its pods and webhooks select it).</summary>
    private string NodeLabelValue => Unique("nodes");

    /// <summary>The name a test gives a node, namespace or webhook configuration on this cluster.</summary>
    protected abstract string Unique(string name);

    /// <summary>Starts (or joins) the cluster; returns its admin client.</summary>
    protected abstract Task<IKubernetes> StartClusterAsync();

    /// <summary>A node joins the running cluster: its simulated kubelet registers it (through the API server's admission).</summary>
    protected abstract Task JoinAsync(NodeSpec node);

    protected abstract ValueTask StopClusterAsync();

    /// <summary>What went wrong in the background (the simulator's controllers, the simulated kubelets).</summary>
    protected abstract IReadOnlyCollection<string> BackgroundErrors { get; }

    /// <summary>How long a backend may take: the real scheduler retries an unschedulable pod after a backoff of up to 10 s.</summary>
    protected virtual TimeSpan Patience => TimeSpan.FromSeconds(60);

    public async ValueTask InitializeAsync()
    {
        _client = await StartClusterAsync();
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // A webhook for nodes CREATE must not outlive its test on a shared cluster.
            foreach (var name in _webhookConfigurations)
            {
                try
                {
                    await Client.AdmissionregistrationV1.DeleteMutatingWebhookConfigurationAsync(name, cancellationToken: CancellationToken.None);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    // Already gone.
                }
            }
        }
        finally
        {
            await StopClusterAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_webhook_for_nodes_CREATE_taints_a_joining_node_and_when_it_is_down_failurePolicy_Ignore_lets_the_node_join_untainted()
    {
        var webhook = await TestWebhook.StartAsync("127.0.0.1");
        try
        {
            webhook.Responder = AddWarmingTaint;
            await RegisterNodeWebhookAsync(webhook, "Ignore");

            var joined = Unique("warm-joined");
            await JoinAsync(OwnNode(joined));
            var review = Assert.Single(webhook.Reviews, r => r["request"]?["name"]?.GetValue<string>() == joined)["request"]!;
            Assert.Equal("CREATE", review["operation"]!.GetValue<string>());
            FixtureFidelityTests.AssertJsonEqual(JsonNode.Parse("""{"group":"","version":"v1","resource":"nodes"}"""), review["resource"]);
            FixtureFidelityTests.AssertJsonEqual(JsonNode.Parse("""{"group":"","version":"v1","kind":"Node"}"""), review["kind"]);
            Assert.Null(review["namespace"]);
            Assert.False(review["dryRun"]!.GetValue<bool>());

            // The API server's own admission (TaintNodesByCondition) runs before the webhooks: they see the not-ready taint.
            Assert.Contains(review["object"]!["spec"]!["taints"]!.AsArray(), t => t?["key"]?.GetValue<string>() == NotReadyTaintKey);

            // Stored with the webhook's taint, which stays once the not-ready taint is gone.
            await WaitAsync(async () => Taints(await Client.CoreV1.ReadNodeAsync(joined, cancellationToken: Token)) == $"{WarmingTaintKey}={WarmingTaintValue}:{WarmingTaintEffect}", $"node {joined} tainted by the webhook alone");

            // The webhook goes down: with failurePolicy Ignore a node still joins, without the taint.
            await webhook.DisposeAsync();
            var reviewed = webhook.Reviews.Count;
            var unreached = Unique("warm-unreached");
            await JoinAsync(OwnNode(unreached));
            await WaitAsync(async () => Taints(await Client.CoreV1.ReadNodeAsync(unreached, cancellationToken: Token)) == "", $"node {unreached} registered untainted");
            Assert.Equal(reviewed, webhook.Reviews.Count);
            Assert.Empty(BackgroundErrors);
        }
        finally
        {
            await webhook.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_warming_node_takes_only_pods_that_tolerate_its_taint_until_a_json_patch_that_tests_the_taint_removes_it()
    {
        var node = Unique("warm-tainted");
        await JoinAsync(OwnNode(node) with { Taints = [(WarmingTaintKey, WarmingTaintValue, WarmingTaintEffect)] });
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 2), Namespace, cancellationToken: Token);
        await WaitAsync(
            async () => await PodsAsync("web") is { Count: 2 } pods && pods.All(p => Scheduled(p) is { Status: "False", Reason: "Unschedulable" }),
            "both pods of the Deployment unschedulable");
        foreach (var pod in await PodsAsync("web"))
        {
            Assert.Null(pod.Spec.NodeName);
            // kube-scheduler v1.24's words (1.25 changed them to "had untolerated taint").
            Assert.Contains($"node(s) had taint {{{WarmingTaintKey}: {WarmingTaintValue}}}, that the pod didn't tolerate", Scheduled(pod)!.Message, StringComparison.Ordinal);
        }

        // A pull pod tolerates the taint: it lands on the warming node, and the node lists the image it pulled.
        await Client.CoreV1.CreateNamespacedPodAsync(PullPod("pull", node), Namespace, cancellationToken: Token);
        await WaitAsync(
            async () => (await PodsAsync("pull")).SingleOrDefault() is { } pull && pull.Spec.NodeName == node && pull.Status.ContainerStatuses?.SingleOrDefault()?.ImageID is { Length: > 0 },
            "the pull pod's image pulled on the warming node");
        await WaitAsync(
            async () => (await Client.CoreV1.ReadNodeAsync(node, cancellationToken: Token)).Status.Images?.Any(i => i.Names.Contains(Image)) == true,
            $"{Image} listed in the node's status.images");
        Assert.All(await PodsAsync("web"), pod => Assert.Null(pod.Spec.NodeName));

        // Kwarm lifts the taint with a JSON Patch that tests it first; the pending pods then land on the node.
        var tainted = await Client.CoreV1.ReadNodeAsync(node, cancellationToken: Token);
        var index = tainted.Spec.Taints.ToList().FindIndex(t => t.Key == WarmingTaintKey);
        var lifted = await Client.CoreV1.PatchNodeAsync(LiftPatch(index, WarmingTaintValue), node, cancellationToken: Token);
        Assert.Null(lifted.Spec.Taints);
        await WaitAsync(
            async () => await PodsAsync("web") is { Count: 2 } pods && pods.All(p => p.Spec.NodeName == node && p.Status.ContainerStatuses?.SingleOrDefault()?.Ready == true),
            "the Deployment's pods running on the node once warm");
        Assert.Empty(BackgroundErrors);
    }

    [Fact]
    public async Task A_json_patch_whose_test_of_the_taint_fails_is_refused_with_the_recorded_422_and_changes_nothing()
    {
        var node = Unique("warm-stale");
        await JoinAsync(OwnNode(node) with { Taints = [(WarmingTaintKey, WarmingTaintValue, WarmingTaintEffect)] });
        var before = await Client.CoreV1.ReadNodeAsync(node, cancellationToken: Token);
        Assert.Equal($"{WarmingTaintKey}={WarmingTaintValue}:{WarmingTaintEffect}", Taints(before));

        // Another value at that index, and an index past the end (the taint list changed meanwhile): both refused.
        foreach (var (index, value) in new[] { (0, "false"), (1, WarmingTaintValue) })
        {
            var error = await Assert.ThrowsAsync<HttpOperationException>(() => Client.CoreV1.PatchNodeAsync(LiftPatch(index, value), node, cancellationToken: Token));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, error.Response.StatusCode);
            FixtureFidelityTests.AssertJsonEqual(Fixtures.Json("api/json-patch-test-failed.json"), JsonNode.Parse(error.Response.Content));
        }

        var after = await Client.CoreV1.ReadNodeAsync(node, cancellationToken: Token);
        Assert.Equal(Taints(before), Taints(after));
        Assert.Equal(before.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
    }

    /// <summary>A node of this test: the label its pods and webhooks select.</summary>
    protected NodeSpec OwnNode(string name) => new(name) { Labels = new Dictionary<string, string> { [NodeLabel] = NodeLabelValue } };

    /// <summary>
    /// Registers a mutating webhook for <c>nodes</c> CREATE of this test's nodes, reached by URL on 127.0.0.1 (no
    /// Service routing on a real control plane), and waits until the API server calls it.
    /// </summary>
    private protected async Task RegisterNodeWebhookAsync(TestWebhook webhook, string failurePolicy)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        var name = Unique("node-warming");
        await Client.AdmissionregistrationV1.CreateMutatingWebhookConfigurationAsync(new V1MutatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = name },
            Webhooks =
            [
                new V1MutatingWebhook
                {
                    Name = "nodes.warming.kwarm.io",
                    ClientConfig = new Admissionregistrationv1WebhookClientConfig
                    {
                        Url = $"https://127.0.0.1:{webhook.Endpoint.Port}/mutate/nodes",
                        CaBundle = Convert.FromBase64String(webhook.CaBundle),
                    },
                    Rules = [new V1RuleWithOperations { Operations = ["CREATE"], ApiGroups = [""], ApiVersions = ["v1"], Resources = ["nodes"] }],
                    ObjectSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NodeLabel] = NodeLabelValue } },
                    FailurePolicy = failurePolicy,
                    SideEffects = "None",
                    TimeoutSeconds = 5,
                    AdmissionReviewVersions = ["v1"],
                },
            ],
        }, cancellationToken: Token);
        _webhookConfigurations.Add(name);

        // A real API server learns of a new configuration through its informer: a dry-run create of a node of this
        // test shows when the webhook is called (it is side-effect free, so a dry run calls it too).
        var probe = OwnNode(Unique("warm-probe"));
        await WaitAsync(
            async () =>
            {
                var node = new V1Node { Metadata = new V1ObjectMeta { Name = probe.Name, Labels = probe.Labels.ToDictionary() } };
                await Client.CoreV1.CreateNodeAsync(node, dryRun: "All", cancellationToken: Token);
                return webhook.Reviews.Any(r => r["request"]?["name"]?.GetValue<string>() == probe.Name);
            },
            "the API server calling the new webhook");
    }

    /// <summary>The test webhook's answer: add the warming taint (to the not-ready taint the API server put there).</summary>
    protected static JsonArray AddWarmingTaint(JsonObject review)
    {
        ArgumentNullException.ThrowIfNull(review);
        var taint = new JsonObject { ["key"] = WarmingTaintKey, ["value"] = WarmingTaintValue, ["effect"] = WarmingTaintEffect };
        return review["request"]?["object"]?["spec"]?["taints"] is JsonArray
            ? [new JsonObject { ["op"] = "add", ["path"] = "/spec/taints/-", ["value"] = taint }]
            : [new JsonObject { ["op"] = "add", ["path"] = "/spec/taints", ["value"] = new JsonArray(taint) }];
    }

    /// <summary>What Kwarm sends to lift the taint: test the taint at <paramref name="index"/>, then remove it.</summary>
    private static V1Patch LiftPatch(int index, string value)
    {
        var taint = new JsonObject { ["key"] = WarmingTaintKey, ["value"] = value, ["effect"] = WarmingTaintEffect };
        var patch = new JsonArray(
            new JsonObject { ["op"] = "test", ["path"] = $"/spec/taints/{index}", ["value"] = taint },
            new JsonObject { ["op"] = "remove", ["path"] = $"/spec/taints/{index}" });
        return new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch);
    }

    /// <summary>A node's taints as <c>key=value:effect</c>, comma-separated ("" for none).</summary>
    protected static string Taints(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return string.Join(",", (node.Spec?.Taints ?? []).Select(t => $"{t.Key}={t.Value}:{t.Effect}"));
    }

    private static V1PodCondition? Scheduled(V1Pod pod) => pod.Status?.Conditions?.SingleOrDefault(c => c.Type == "PodScheduled");

    private async Task<List<V1Pod>> PodsAsync(string app) =>
        [.. (await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: "app=" + app, cancellationToken: Token)).Items];

    private V1Deployment Deployment(string name, int replicas) => new()
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
                    NodeSelector = new Dictionary<string, string> { [NodeLabel] = NodeLabelValue },
                    Containers = [new V1Container { Name = name, Image = Image }],
                },
            },
        },
    };

    /// <summary>A pull pod as Kwarm makes one for a warming node: pinned to it, tolerating the warming taint.</summary>
    private static V1Pod PullPod(string name, string node) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec
        {
            RestartPolicy = "Never",
            Affinity = new V1Affinity
            {
                NodeAffinity = new V1NodeAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                    {
                        NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [node] }] }],
                    },
                },
            },
            Tolerations = [new V1Toleration { Key = WarmingTaintKey, OperatorProperty = "Exists", Effect = WarmingTaintEffect }],
            Containers = [new V1Container { Name = "pull", Image = Image, Command = ["/kwarm/noop"] }],
        },
    };

    /// <summary>Polls until the condition holds, for up to <see cref="Patience"/>.</summary>
    protected Task WaitAsync(Func<Task<bool>> condition, string what) => Eventually.WaitUntilAsync(condition, what, Patience);
}
