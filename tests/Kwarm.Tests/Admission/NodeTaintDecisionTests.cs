using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Resources;

namespace Kwarm.Tests.Admission;

/// <summary>
/// <c>/mutate/nodes</c> (issue #17): with <c>--taint-new-nodes</c>, a Node being created gets
/// <c>kwarm.io/warming=true:NoSchedule</c> and keeps every taint it came with; nothing else is ever changed. The patch is
/// applied by the test's own RFC 6902 applier, so a wrong pointer or value shows up as the Node it would produce.
/// </summary>
public sealed class NodeTaintDecisionTests
{
    private static readonly JsonObject Warming = new() { ["key"] = "kwarm.io/warming", ["value"] = "true", ["effect"] = "NoSchedule" };

    /// <summary>An AdmissionReview of a core/v1 Node, as the API server sends it for the nodes rule.</summary>
    internal static JsonObject Review(JsonObject? node, string operation = "CREATE", string kind = "Node", string group = "", JsonObject? oldNode = null) => new()
    {
        ["apiVersion"] = "admission.k8s.io/v1",
        ["kind"] = "AdmissionReview",
        ["request"] = new JsonObject
        {
            ["uid"] = "0b9c4a39-7f4e-4a0e-9d53-2c8e1d5e6f70",
            ["kind"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["kind"] = kind },
            ["resource"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["resource"] = "nodes" },
            ["requestKind"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["kind"] = kind },
            ["requestResource"] = new JsonObject { ["group"] = group, ["version"] = "v1", ["resource"] = "nodes" },
            ["name"] = "node-0042",
            ["operation"] = operation,
            ["userInfo"] = new JsonObject { ["username"] = "system:node:node-0042", ["groups"] = new JsonArray("system:nodes", "system:authenticated") },
            ["object"] = node,
            ["oldObject"] = oldNode,
            ["dryRun"] = false,
            ["options"] = new JsonObject { ["kind"] = "CreateOptions", ["apiVersion"] = "meta.k8s.io/v1" },
        },
    };

    /// <summary>A Node as the kubelet registers it; <paramref name="taints"/> null leaves <c>spec.taints</c> out.</summary>
    internal static JsonObject Node(JsonArray? taints = null)
    {
        var spec = new JsonObject { ["podCIDR"] = "10.244.42.0/24" };
        if (taints is not null)
        {
            spec["taints"] = taints;
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = "node-0042", ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = "node-0042" } },
            ["spec"] = spec,
            ["status"] = new JsonObject { ["images"] = new JsonArray(new JsonObject { ["names"] = new JsonArray("registry.local/shop/web:1"), ["sizeBytes"] = 1000 }) },
        };
    }

    private static JsonObject Taint(string key, string effect, string? value = null)
    {
        var taint = new JsonObject { ["key"] = key, ["effect"] = effect };
        if (value is not null)
        {
            taint["value"] = value;
        }

        return taint;
    }

    private static (NodeTaintDecision Decision, JsonObject Response) ReviewNode(JsonObject review, bool taintNewNodes = true)
    {
        var outcome = AdmissionReviewer.ReviewNode(Encoding.UTF8.GetBytes(review.ToJsonString()), taintNewNodes);
        Assert.Null(outcome.Error);
        Assert.Null(outcome.Decision);
        var response = JsonNode.Parse(outcome.ResponseBody)!["response"]!.AsObject();
        Assert.Equal("0b9c4a39-7f4e-4a0e-9d53-2c8e1d5e6f70", (string?)response["uid"]);
        Assert.True((bool)response["allowed"]!);
        return (outcome.NodeDecision!, response);
    }

    /// <summary>The Node the API server would store: the response's patch applied to the reviewed object.</summary>
    private static JsonNode Patched(JsonObject review, JsonObject response)
    {
        var node = review["request"]!["object"]!;
        if (response["patch"] is null)
        {
            Assert.Null(response["patchType"]);
            return node.DeepClone();
        }

        Assert.Equal("JSONPatch", (string?)response["patchType"]);
        return JsonPatchApplier.Apply(node, PatchOf(response));
    }

    internal static JsonArray PatchOf(JsonObject response) => JsonNode.Parse(Convert.FromBase64String((string)response["patch"]!))!.AsArray();

    private static List<string> TaintsOf(JsonNode node) =>
        node["spec"]?["taints"]?.AsArray().Select(taint => taint!.ToJsonString()).ToList() ?? [];

    [Fact]
    public void A_new_node_without_taints_gets_the_taints_array_with_the_warming_taint()
    {
        var review = Review(Node());

        var (decision, response) = ReviewNode(review);

        Assert.Equal(NodeTaintReason.Tainted, decision.Reason);
        Assert.Equal([Warming.ToJsonString()], TaintsOf(Patched(review, response)));
        Assert.Equal("/spec/taints", (string?)Assert.Single(PatchOf(response))!["path"]);
    }

    [Fact]
    public void A_new_node_keeps_its_provisioners_taints_and_gets_the_warming_taint_appended()
    {
        var others = new JsonArray(
            Taint("node.kubernetes.io/not-ready", "NoSchedule"),
            Taint("node.cilium.io/agent-not-ready", "NoExecute", "true"),
            Taint("dedicated", "NoSchedule", "gpu"));
        var review = Review(Node(others));

        var (decision, response) = ReviewNode(review);

        Assert.Equal(NodeTaintReason.Tainted, decision.Reason);
        var expected = others.Select(taint => taint!.ToJsonString()).Append(Warming.ToJsonString()).ToList();
        Assert.Equal(expected, TaintsOf(Patched(review, response)));
        var add = Assert.Single(PatchOf(response))!;
        Assert.Equal(("add", "/spec/taints/-"), ((string?)add["op"], (string?)add["path"]));
    }

    [Theory]
    [InlineData("true")]
    [InlineData("pending")]
    [InlineData(null)]
    public void A_node_that_already_carries_the_key_with_NoSchedule_is_left_alone(string? value)
    {
        var review = Review(Node(new JsonArray(Taint("example.com/other", "NoSchedule"), Taint(KwarmApi.WarmingTaintKey, "NoSchedule", value))));

        var (decision, response) = ReviewNode(review);

        Assert.Equal(NodeTaintReason.AlreadyTainted, decision.Reason);
        Assert.Null(response["patch"]);
    }

    [Fact]
    public void The_key_with_another_effect_is_another_taint_and_gets_the_NoSchedule_one_added()
    {
        var review = Review(Node(new JsonArray(Taint(KwarmApi.WarmingTaintKey, "NoExecute", "true"))));

        var (decision, response) = ReviewNode(review);

        Assert.Equal(NodeTaintReason.Tainted, decision.Reason);
        Assert.Equal(2, TaintsOf(Patched(review, response)).Count);
        Assert.Contains(Warming.ToJsonString(), TaintsOf(Patched(review, response)));
    }

    [Fact]
    public void Taints_of_null_or_a_missing_spec_are_created()
    {
        var nullTaints = Node();
        nullTaints["spec"]!["taints"] = null;
        var noSpec = Node();
        noSpec.Remove("spec");

        foreach (var node in new[] { nullTaints, noSpec })
        {
            var review = Review(node);
            var (decision, response) = ReviewNode(review);

            Assert.Equal(NodeTaintReason.Tainted, decision.Reason);
            Assert.Equal([Warming.ToJsonString()], TaintsOf(Patched(review, response)));
        }
    }

    [Theory]
    [InlineData("UPDATE")]
    [InlineData("DELETE")]
    [InlineData("CONNECT")]
    public void An_existing_node_is_never_tainted(string operation)
    {
        var review = Review(Node(), operation, oldNode: Node());

        var (decision, response) = ReviewNode(review);

        Assert.Equal(NodeTaintReason.NotCreate, decision.Reason);
        Assert.Null(response["patch"]);
    }

    [Fact]
    public void Without_the_flag_every_node_passes_unchanged()
    {
        var review = Review(Node());

        var (decision, response) = ReviewNode(review, taintNewNodes: false);

        Assert.Equal(NodeTaintReason.TaintingOff, decision.Reason);
        Assert.Null(response["patch"]);
        Assert.Null(response["patchType"]);
    }

    [Theory]
    [InlineData("Deployment", "apps")]
    [InlineData("Node", "example.com")]
    [InlineData("Pod", "")]
    public void Only_a_core_v1_node_is_tainted(string kind, string group)
    {
        var (decision, response) = ReviewNode(Review(Node(), kind: kind, group: group));

        Assert.Equal(NodeTaintReason.NotANode, decision.Reason);
        Assert.Null(response["patch"]);
    }

    [Fact]
    public void A_status_write_and_a_review_without_an_object_are_left_alone()
    {
        var status = Review(Node());
        status["request"]!["subResource"] = "status";
        var empty = Review(node: null);

        Assert.Equal(NodeTaintReason.Subresource, ReviewNode(status).Decision.Reason);
        Assert.Equal(NodeTaintReason.NotANode, ReviewNode(empty).Decision.Reason);
    }

    [Fact]
    public void A_field_given_twice_counts_by_its_last_value_as_the_api_server_reads_it()
    {
        // The taints array first holds the warming taint, then is given again without it: the Node has no warming taint.
        var body = Review(Node()).ToJsonString().Replace(
            "\"spec\":{\"podCIDR\":\"10.244.42.0/24\"}",
            "\"spec\":{\"taints\":[{\"key\":\"kwarm.io/warming\",\"effect\":\"NoSchedule\"}],\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}",
            StringComparison.Ordinal);
        Assert.Contains("\"taints\":[{\"key\":\"a\"", body, StringComparison.Ordinal);

        var outcome = AdmissionReviewer.ReviewNode(Encoding.UTF8.GetBytes(body), taintNewNodes: true);

        Assert.Equal(NodeTaintReason.Tainted, outcome.NodeDecision!.Reason);
        Assert.Equal("/spec/taints/-", (string?)PatchOf(JsonNode.Parse(outcome.ResponseBody)!["response"]!.AsObject())[0]!["path"]);
    }

    [Fact]
    public void The_snapshot_reads_the_taints_leniently()
    {
        Assert.False(NodeSnapshot.Read("""{"spec":{"taints":"kwarm.io/warming"}}"""u8).HasTaints);
        Assert.False(NodeSnapshot.Read("""{"spec":{"taints":[1,"x",{"key":7,"effect":"NoSchedule"}]}}"""u8).HasWarmingTaint);
        Assert.True(NodeSnapshot.Read("""{"spec":{"taints":[1,{"effect":"NoSchedule","key":"kwarm.io/warming"}]}}"""u8).HasWarmingTaint);
        Assert.False(NodeSnapshot.Read("""{"spec":[]}"""u8).HasSpec);
        Assert.ThrowsAny<JsonException>(() => NodeSnapshot.Read("""{"spec":{"taints":[}}"""u8));
    }

    public static TheoryData<string, string> MalformedBodies => AdmissionHttpTests.MalformedBodies;

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public void A_malformed_review_is_refused_with_the_same_reason_as_on_the_workload_paths(string body, string expectedMessage)
    {
        var outcome = AdmissionReviewer.ReviewNode(Encoding.UTF8.GetBytes(body), taintNewNodes: true);

        Assert.Null(outcome.ResponseBody);
        Assert.Contains(expectedMessage, outcome.Error, StringComparison.Ordinal);
    }
}
