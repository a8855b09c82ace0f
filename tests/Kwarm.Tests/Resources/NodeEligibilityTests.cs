using k8s.Models;
using Kwarm.Resources;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Resources;

public sealed class NodeEligibilityTests
{
    private static readonly PrePullImageSpec Spec = new() { Image = "registry.local/shop/web:1.2" };

    [Fact]
    public void A_ready_schedulable_linux_node_is_a_target_and_a_missing_os_label_counts_as_linux()
    {
        Assert.Equal(NodeVerdict.Target, NodeEligibility.Judge(Spec, Node("a")));
        Assert.Equal(NodeVerdict.Target, NodeEligibility.Judge(Spec, Node("b", labels: new Dictionary<string, string>())));
    }

    [Fact]
    public void Tainted_cordoned_not_ready_and_windows_nodes_are_not_targets()
    {
        var tainted = Node("gpu", taints: [new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" }]);
        var windows = Node("win", labels: new Dictionary<string, string> { ["kubernetes.io/os"] = "windows" });

        Assert.Equal(NodeVerdict.TaintNotTolerated, NodeEligibility.Judge(Spec, tainted));
        Assert.Equal(NodeVerdict.Cordoned, NodeEligibility.Judge(Spec, Node("c", unschedulable: true)));
        Assert.Equal(NodeVerdict.NotReady, NodeEligibility.Judge(Spec, Node("d", ready: false)));
        Assert.Equal(NodeVerdict.NotReady, NodeEligibility.Judge(Spec, new V1Node { Metadata = new V1ObjectMeta { Name = "bare" } }));
        Assert.Equal(NodeVerdict.NotLinux, NodeEligibility.Judge(Spec, windows));

        var tolerating = Spec with { Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Exists", Effect = "NoSchedule" }] };
        Assert.Equal(NodeVerdict.Target, NodeEligibility.Judge(tolerating, tainted));
    }

    [Fact]
    public void Names_and_selector_must_both_hold_when_both_are_given()
    {
        var spec = Spec with
        {
            Nodes = new NodeTargets
            {
                Names = ["a", "b"],
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["pool"] = "web" } },
            },
        };
        var web = new Dictionary<string, string> { ["pool"] = "web" };

        Assert.Equal(NodeVerdict.Target, NodeEligibility.Judge(spec, Node("a", labels: web)));
        Assert.Equal(NodeVerdict.NotSelected, NodeEligibility.Judge(spec, Node("b")));
        Assert.Equal(NodeVerdict.NotSelected, NodeEligibility.Judge(spec, Node("c", labels: web)));
    }

    [Fact]
    public void Only_the_exact_reference_in_status_images_counts_as_present()
    {
        var node = Node("a", images: ["registry.local/shop/web:1.2", "registry.local/shop/api@sha256:abc"]);

        Assert.True(NodeEligibility.HasImage(node, "registry.local/shop/web:1.2"));
        Assert.False(NodeEligibility.HasImage(node, "registry.local/shop/web:1.3"));
        Assert.False(NodeEligibility.HasImage(node, "registry.local/shop/web"));
    }
}
