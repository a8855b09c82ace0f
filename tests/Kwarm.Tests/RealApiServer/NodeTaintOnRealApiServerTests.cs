using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;
using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.EndToEnd;
using Kwarm.Tests.Resources;

namespace Kwarm.Tests.RealApiServer;

/// <summary>
/// <c>--taint-new-nodes</c> against a real kube-apiserver (issue #17): Kwarm runs with the flag, the API server calls it
/// through the nodes entry of <c>deploy/kustomize/taint-new-nodes</c> (its Service swapped for the replica's URL, as
/// cert-manager's injector would fill the CA), and the Nodes it stores are what the webhook's JSON Patch made of them:
/// the warming taint added after the node's own, never twice, never on an update. What the test's own patch applier
/// cannot show: the real server accepts and applies the patch. Nodes are read from each write's own response, which is
/// the object as stored by that write whatever a controller does to it afterwards.
/// </summary>
/// <remarks>
/// The API server's own TaintNodesByCondition admission plugin, which runs before the webhooks, appends
/// <c>node.kubernetes.io/not-ready:NoSchedule</c> to every new Node: on a real server the webhook always finds a taints
/// array and appends to it.
/// </remarks>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NodeTaintOnRealApiServerTests(RealControlPlaneFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private const string Warming = """{"effect":"NoSchedule","key":"kwarm.io/warming","value":"true"}""";

    private const string NotReady = """{"effect":"NoSchedule","key":"node.kubernetes.io/not-ready"}""";

    [Fact]
    public async Task New_nodes_are_stored_with_the_warming_taint_and_existing_ones_are_never_tainted()
    {
        var plane = fixture.Require();
        var kubectl = new Testing.Kubectl(plane.AdminKubeconfig);
        var run = Guid.NewGuid().ToString("N")[..8];
        var configuration = $"kwarm-taint-new-nodes-{run}";
        var certificates = Path.Combine(plane.Directory, $"taint-new-nodes-{run}");
        var caBundle = WebhookServingCertificate.Write(certificates, "kwarm-webhook.kwarm-system.svc", TimeProvider.System);
        await kubectl.SucceedAsync("apply", "--server-side", "-f", RepositoryFiles.PrePullPolicyCrd, "-f", RepositoryFiles.PrePullImageCrd);
        await kubectl.SucceedAsync("wait", "--for=condition=Established", "--timeout=60s", "crd/prepullpolicies.kwarm.io", "crd/prepullimages.kwarm.io");
        List<string> nodes = [];

        await using (var kwarm = await KwarmInstance.StartAsync(plane.AdminKubeconfig, certificates, ["--taint-new-nodes"], TimeSpan.FromSeconds(90)))
        {
            try
            {
                await CreateAsync(kubectl, plane.Directory, $"{configuration}.json", Configuration(configuration, kwarm, caBundle));
                // The API server takes a new webhook configuration up a moment after the write: dry runs until it answers.
                await Testing.Eventually.WaitUntilAsync(
                    async () => Taints(await CreateNodeAsync(kubectl, plane.Directory, $"probe-{run}", null, "--dry-run=server")).Contains(Warming),
                    "the API server calling the nodes entry",
                    TimeSpan.FromSeconds(30));

                nodes.Add($"bare-{run}");
                var bare = await CreateNodeAsync(kubectl, plane.Directory, nodes[^1], taints: null);
                Assert.Equal([NotReady, Warming], Taints(bare));

                nodes.Add($"provisioned-{run}");
                var provisioned = await CreateNodeAsync(kubectl, plane.Directory, nodes[^1], new JsonArray(
                    new JsonObject { ["key"] = "example.com/gpu", ["value"] = "true", ["effect"] = "NoSchedule" },
                    new JsonObject { ["key"] = "node.cilium.io/agent-not-ready", ["value"] = "true", ["effect"] = "NoExecute" }));
                Assert.Equal(
                    ["""{"effect":"NoSchedule","key":"example.com/gpu","value":"true"}""", """{"effect":"NoExecute","key":"node.cilium.io/agent-not-ready","value":"true"}""", NotReady, Warming],
                    Taints(provisioned));

                nodes.Add($"karpenter-{run}");
                var alreadyTainted = await CreateNodeAsync(kubectl, plane.Directory, nodes[^1], new JsonArray(
                    new JsonObject { ["key"] = KwarmApi.WarmingTaintKey, ["value"] = "pending", ["effect"] = "NoSchedule" }));
                Assert.Equal(["""{"effect":"NoSchedule","key":"kwarm.io/warming","value":"pending"}""", NotReady], Taints(alreadyTainted));

                // The taint lifted (by hand here), then the node written again: an UPDATE, which Kwarm never taints.
                var lifted = JsonNode.Parse(await kubectl.SucceedAsync("patch", "node", nodes[0], "--type=merge", "-p", """{"spec":{"taints":null}}""", "-o", "json"))!;
                Assert.DoesNotContain(Warming, Taints(lifted));
                var relabelled = JsonNode.Parse(await kubectl.SucceedAsync("label", "node", nodes[0], "kwarm.test/relabelled=true", "-o", "json"))!;
                Assert.Equal("true", (string?)relabelled["metadata"]!["labels"]!["kwarm.test/relabelled"]);
                Assert.DoesNotContain(Taints(relabelled), taint => taint.Contains("\"kwarm.io/warming\"", StringComparison.Ordinal));
            }
            finally
            {
                await kubectl.RunAsync("delete", "mutatingwebhookconfiguration", configuration, "--ignore-not-found");
                foreach (var node in nodes)
                {
                    await kubectl.RunAsync("delete", "node", node, "--ignore-not-found", "--wait=false");
                }
            }
        }
    }

    /// <summary>
    /// A webhook configuration holding only the overlay's nodes entry, as <c>deploy/kustomize/taint-new-nodes</c> adds it,
    /// pointed at the replica: the Service's path on the replica's own address, and the CA of its certificate.
    /// </summary>
    private static JsonObject Configuration(string name, KwarmInstance kwarm, string caBundle)
    {
        var patch = YamlJson.ReadFile(Path.Combine(RepositoryFiles.Root, "deploy", "kustomize", "taint-new-nodes", "webhook-nodes-entry.yaml")).AsArray();
        var entry = patch.Single(operation => (string?)operation!["path"] == "/webhooks/-")!["value"]!.DeepClone().AsObject();
        var path = (string)entry["clientConfig"]!["service"]!["path"]!;
        entry["clientConfig"] = new JsonObject
        {
            ["url"] = $"https://127.0.0.1:{kwarm.WebhookEndPoint.Port}{path}",
            ["caBundle"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(caBundle)),
        };
        return new JsonObject
        {
            ["apiVersion"] = "admissionregistration.k8s.io/v1",
            ["kind"] = "MutatingWebhookConfiguration",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["webhooks"] = new JsonArray(entry),
        };
    }

    /// <summary>Creates a Node as a kubelet registers one and returns it as the API server stored it.</summary>
    private static async Task<JsonNode> CreateNodeAsync(Testing.Kubectl kubectl, string directory, string name, JsonArray? taints, string? dryRun = null)
    {
        var spec = new JsonObject();
        if (taints is not null)
        {
            spec["taints"] = taints;
        }

        var node = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = name } },
            ["spec"] = spec,
        };
        return JsonNode.Parse(await CreateAsync(kubectl, directory, $"node-{name}.json", node, dryRun))!;
    }

    private static async Task<string> CreateAsync(Testing.Kubectl kubectl, string directory, string fileName, JsonObject manifest, string? dryRun = null)
    {
        var file = Path.Combine(directory, fileName);
        await File.WriteAllTextAsync(file, manifest.ToJsonString(), Token);
        string[] args = dryRun is null ? ["create", "-f", file, "-o", "json"] : ["create", "-f", file, "-o", "json", dryRun];
        return await kubectl.SucceedAsync(args);
    }

    /// <summary>The taints as compact JSON with sorted keys, in their order on the Node.</summary>
    private static List<string> Taints(JsonNode node) =>
        node["spec"]?["taints"]?.AsArray()
            .Select(taint => new JsonObject(taint!.AsObject().OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => KeyValuePair.Create(pair.Key, pair.Value?.DeepClone()))).ToJsonString())
            .ToList() ?? [];
}
