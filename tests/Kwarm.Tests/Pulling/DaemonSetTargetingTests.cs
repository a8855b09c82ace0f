using Kwarm.Holds;
using Kwarm.Pulling;
using Kwarm.Resources;
using Kwarm.Tests.Holds;
using Kwarm.Workloads;
using k8s.Models;
using k8s;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

/// <summary>
/// A DaemonSet's pull pods go where its daemon pods go (issue #16): its template's tolerations plus the DaemonSet
/// controller's automatic ones, and a cordoned node counts as carrying <c>node.kubernetes.io/unschedulable:NoSchedule</c>.
/// </summary>
public sealed class DaemonSetTargetingTests
{
    private static PrePullImageSpec PlanOne(V1DaemonSet daemonSet) =>
        Assert.Single(PrePullImagePlanner.Plan(WorkloadObject.Of(daemonSet), "abc", new PrePullPolicySpec(), serviceAccount: null)).Spec;

    private static V1DaemonSet DaemonSet(bool hostNetwork = false, IList<V1Toleration>? tolerations = null)
    {
        var daemonSet = KubernetesJson.Deserialize<V1DaemonSet>(HoldWorld.DaemonSetJson("agent", ["registry.local/ops/agent:3.0"]).ToJsonString());
        daemonSet.Spec.Template.Spec.HostNetwork = hostNetwork;
        daemonSet.Spec.Template.Spec.Tolerations = tolerations;
        return daemonSet;
    }

    private static string[] Keys(PrePullImageSpec spec) => [.. spec.Tolerations!.Select(toleration => $"{toleration.Key}:{toleration.OperatorProperty}:{toleration.Effect}")];

    [Fact]
    public void A_DaemonSets_PrePullImage_carries_the_controllers_automatic_tolerations()
    {
        Assert.Equal(
            [
                "node.kubernetes.io/not-ready:Exists:NoExecute",
                "node.kubernetes.io/unreachable:Exists:NoExecute",
                "node.kubernetes.io/disk-pressure:Exists:NoSchedule",
                "node.kubernetes.io/memory-pressure:Exists:NoSchedule",
                "node.kubernetes.io/pid-pressure:Exists:NoSchedule",
                "node.kubernetes.io/unschedulable:Exists:NoSchedule",
            ],
            Keys(PlanOne(DaemonSet())));
    }

    [Fact]
    public void A_host_network_DaemonSet_also_tolerates_network_unavailable_and_its_own_tolerations_come_first_once()
    {
        var own = new V1Toleration { Key = "node.kubernetes.io/unschedulable", OperatorProperty = "Exists", Effect = "NoSchedule" };
        var gpu = new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "gpu", Effect = "NoSchedule" };

        var keys = Keys(PlanOne(DaemonSet(hostNetwork: true, tolerations: [gpu, own])));

        Assert.Equal(["dedicated:Equal:NoSchedule", "node.kubernetes.io/unschedulable:Exists:NoSchedule"], keys[..2]);
        Assert.Contains("node.kubernetes.io/network-unavailable:Exists:NoSchedule", keys);
        Assert.Single(keys, key => key.StartsWith("node.kubernetes.io/unschedulable", StringComparison.Ordinal));
    }

    [Fact]
    public void A_Deployments_PrePullImage_gets_only_its_templates_tolerations()
    {
        var deployment = HoldWorld.Deployment("web", ["registry.local/shop/web:1.0"]);

        var spec = Assert.Single(PrePullImagePlanner.Plan(deployment, "abc", new PrePullPolicySpec(), serviceAccount: null)).Spec;

        Assert.Null(spec.Tolerations);
    }

    [Fact]
    public void A_cordoned_node_is_a_target_for_a_DaemonSets_pull_and_not_for_a_Deployments()
    {
        var cordoned = Node("c", unschedulable: true);

        Assert.Equal(NodeVerdict.Target, NodeEligibility.Judge(PlanOne(DaemonSet()), cordoned));
        Assert.Equal(NodeVerdict.Cordoned, NodeEligibility.Judge(new PrePullImageSpec { Image = "registry.local/shop/web:1.0" }, cordoned));
    }

    [Fact]
    public void A_toleration_of_another_effect_or_key_does_not_reach_a_cordoned_node()
    {
        var cordoned = Node("c", unschedulable: true);
        var spec = new PrePullImageSpec { Image = "registry.local/shop/web:1.0" };

        Assert.Equal(NodeVerdict.Cordoned, NodeEligibility.Judge(spec with { Tolerations = [new V1Toleration { Key = "node.kubernetes.io/unschedulable", OperatorProperty = "Exists", Effect = "NoExecute" }] }, cordoned));
        Assert.Equal(NodeVerdict.Cordoned, NodeEligibility.Judge(spec with { Tolerations = [new V1Toleration { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists" }] }, cordoned));
        Assert.Equal(NodeVerdict.Target, NodeEligibility.Judge(spec with { Tolerations = [new V1Toleration { OperatorProperty = "Exists" }] }, cordoned));
    }

    [Fact]
    public void A_not_ready_node_stays_excluded_even_for_a_DaemonSet()
    {
        Assert.Equal(NodeVerdict.NotReady, NodeEligibility.Judge(PlanOne(DaemonSet()), Node("d", ready: false)));
    }
}
