using k8s.Models;
using Kwarm.Resources;
using Kwarm.Warmup;

namespace Kwarm.Tests.Warmup;

public sealed class WarmupPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_warming_node_needs_the_images_of_the_workloads_that_could_run_on_it_and_nothing_else()
    {
        var web = Deployment("web", "registry.local/web:2", "registry.local/sidecar:1");
        var pinned = Deployment("gpu-job", "registry.local/gpu:1", nodeSelector: new Dictionary<string, string> { ["pool"] = "gpu" });
        var unlabelled = Deployment("other", "registry.local/other:1", optIn: false);

        var plan = Plan([WarmingNode("new-1")], [Policy("warm", enabled: true)], [web, pinned, unlabelled]);

        var verdict = Assert.Single(plan.Nodes);
        Assert.Equal(["registry.local/sidecar:1", "registry.local/web:2"], verdict.Images.Order(StringComparer.Ordinal));
        Assert.Null(verdict.Lift);
        Assert.Equal(2, verdict.Pending);
        Assert.Equal(Now.AddMinutes(-1).AddMinutes(10), verdict.Deadline);
        Assert.Equal(["registry.local/sidecar:1", "registry.local/web:2"], plan.Desired.Select(image => image.Spec.Image).Order(StringComparer.Ordinal));
        Assert.All(plan.Desired, image =>
        {
            Assert.Equal("shop", image.Metadata.NamespaceProperty);
            Assert.Equal("true", image.Metadata.Labels[KwarmApi.WarmupLabel]);
            Assert.Equal(["new-1"], image.Spec.Nodes!.Names);
            Assert.Contains(image.Spec.Tolerations!, t => t.Key == KwarmApi.WarmingTaintKey && t.OperatorProperty == "Exists" && t.Effect == "NoSchedule");
            Assert.Null(image.Metadata.OwnerReferences);
        });
    }

    [Fact]
    public void Each_warming_node_gets_its_own_PrePullImage_per_image_and_a_node_without_the_taint_is_not_warming()
    {
        var plan = Plan([WarmingNode("new-2"), WarmingNode("new-1"), Node("old")], [Policy("warm", enabled: true)], [Deployment("web", "registry.local/web:2")]);

        Assert.Equal(["new-1", "new-2"], plan.Nodes.Select(v => v.Name));
        Assert.Equal(2, plan.Desired.Count);
        Assert.All(plan.Desired, image => Assert.Equal(WarmupNames.PrePullImage("registry.local/web:2", Assert.Single(image.Spec.Nodes!.Names!)), image.Metadata.Name));
        Assert.Equal(["new-1", "new-2"], plan.Desired.Select(image => image.Spec.Nodes!.Names![0]).Order(StringComparer.Ordinal));
        Assert.NotEqual(plan.Desired[0].Metadata.Name, plan.Desired[1].Metadata.Name);
    }

    [Fact]
    public void Whether_a_workload_could_run_there_is_judged_as_if_the_warming_taint_were_absent()
    {
        var gpuNode = WarmingNode("gpu-1", taints: [new V1Taint { Key = "nvidia.com/gpu", Effect = "NoSchedule" }]);
        var tolerant = Deployment("trainer", "registry.local/trainer:1", tolerations: [new V1Toleration { Key = "nvidia.com/gpu", OperatorProperty = "Exists" }]);
        var plain = Deployment("web", "registry.local/web:2");

        var plan = Plan([gpuNode], [Policy("warm", enabled: true)], [tolerant, plain]);

        Assert.Equal(["registry.local/trainer:1"], Assert.Single(plan.Nodes).Images);
        var image = Assert.Single(plan.Desired);
        Assert.Contains(image.Spec.Tolerations!, t => t.Key == "nvidia.com/gpu");
        Assert.Contains(image.Spec.Tolerations!, t => t.Key == KwarmApi.WarmingTaintKey);
    }

    [Fact]
    public void The_startup_taints_of_a_joining_node_do_not_count_against_its_workloads()
    {
        var joining = WarmingNode("new-1", taints:
        [
            new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoSchedule" },
            new V1Taint { Key = "node.cloudprovider.kubernetes.io/uninitialized", Value = "true", Effect = "NoSchedule" },
            new V1Taint { Key = "node.cilium.io/agent-not-ready", Value = "true", Effect = "NoSchedule" },
        ]);

        var plan = Plan([joining], [Policy("warm", enabled: true)], [Deployment("web", "registry.local/web:2")]);

        Assert.Null(Assert.Single(plan.Nodes).Lift);
        Assert.Equal(["registry.local/web:2"], plan.Nodes[0].Images);
    }

    [Fact]
    public void A_node_that_cannot_take_pulls_yet_waits_for_its_PrePullImage_and_gets_it_once_it_can()
    {
        var notReadyTaint = new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoSchedule" };
        var registering = WarmingNode("new-1", taints: [notReadyTaint]);
        var notReady = WarmingNode("new-2");
        notReady.Status.Conditions = [new V1NodeCondition { Type = "Ready", Status = "False" }];
        var web = Deployment("web", "registry.local/web:2");

        var waiting = Plan([registering, notReady], [Policy("warm", enabled: true)], [web]);
        var ready = Plan([WarmingNode("new-1"), WarmingNode("new-2")], [Policy("warm", enabled: true)], [web]);

        Assert.Empty(waiting.Desired);
        Assert.All(waiting.Nodes, verdict => Assert.Equal((null, 1), (verdict.Lift, verdict.Pending)));
        Assert.Equal(["new-1", "new-2"], ready.Desired.Select(image => image.Spec.Nodes!.Names![0]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_PrePullImage_that_finished_without_its_node_is_kept_while_the_node_cannot_pull_and_restarted_once_it_can()
    {
        var finishedEmpty = WarmupImage("shop", "registry.local/web:2", ("new-1", NodePullState.Pending, null));
        finishedEmpty.Status!.Nodes = [];
        finishedEmpty.Status.Phase = PrePullImagePhase.Completed;
        var running = WarmupImage("shop", "registry.local/web:2", ("new-1", NodePullState.Pulling, null));
        running.Status!.Phase = PrePullImagePhase.InProgress;
        var web = Deployment("web", "registry.local/web:2");
        var stillRegistering = WarmingNode("new-1", taints: [new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoSchedule" }]);

        var canPull = Plan([WarmingNode("new-1")], [Policy("warm", enabled: true)], [web], [finishedEmpty]);
        var cannotPull = Plan([stillRegistering], [Policy("warm", enabled: true)], [web], [finishedEmpty]);
        var underWay = Plan([WarmingNode("new-1")], [Policy("warm", enabled: true)], [web], [running]);

        Assert.Same(finishedEmpty, Assert.Single(canPull.Stale));
        Assert.Null(Assert.Single(canPull.Nodes).Lift);
        Assert.Empty(cannotPull.Stale);
        Assert.Equal(finishedEmpty.Metadata.Name, Assert.Single(cannotPull.Desired).Metadata.Name);
        Assert.Empty(underWay.Stale);
        Assert.Single(underWay.Desired);
    }

    [Fact]
    public void Without_a_policy_that_wants_warm_up_the_taint_is_lifted_at_once()
    {
        var off = Plan([WarmingNode("new-1")], [Policy("holds-only", enabled: false)], [Deployment("web", "registry.local/web:2")]);
        var nothingFits = Plan([WarmingNode("new-1")], [Policy("warm", enabled: true)], [Deployment("gpu", "registry.local/gpu:1", nodeSelector: new Dictionary<string, string> { ["pool"] = "gpu" })]);
        var otherNodes = Plan([WarmingNode("new-1")], [Policy("warm", enabled: true, nodeSelector: new Dictionary<string, string> { ["pool"] = "gpu" })], [Deployment("web", "registry.local/web:2")]);

        Assert.All(new[] { off, nothingFits, otherNodes }, plan =>
        {
            Assert.Equal(WarmupOutcome.NotNeeded, Assert.Single(plan.Nodes).Lift);
            Assert.Empty(plan.Desired);
        });
    }

    [Fact]
    public void A_workload_outranked_by_an_older_policy_follows_that_policys_warm_up_setting()
    {
        var older = Policy("older", enabled: false, created: Now.AddDays(-2));
        var younger = Policy("younger", enabled: true, created: Now.AddDays(-1));

        var plan = Plan([WarmingNode("new-1")], [younger, older], [Deployment("web", "registry.local/web:2")]);

        Assert.Equal(WarmupOutcome.NotNeeded, Assert.Single(plan.Nodes).Lift);
    }

    [Fact]
    public void A_node_is_warm_when_each_image_is_listed_in_its_status_or_pulled_by_its_PrePullImage()
    {
        var node = WarmingNode("new-1", images: ["docker.io/library/nginx:1.27.1"]);
        var pulled = WarmupImage("shop", "registry.local/web:2", ("new-1", NodePullState.Completed, null));

        var plan = Plan([node], [Policy("warm", enabled: true)], [Deployment("web", "registry.local/web:2", "nginx:1.27.1")], [pulled]);

        var verdict = Assert.Single(plan.Nodes);
        Assert.Equal(WarmupOutcome.Warm, verdict.Lift);
        Assert.Empty(verdict.Failures);
    }

    [Fact]
    public void A_pull_that_failed_for_good_ends_the_warm_up_as_failed_with_the_kubelets_message_once_nothing_else_is_pending()
    {
        const string message = "rpc error: code = NotFound desc = failed to pull and unpack image \"registry.local/web:typo\": not found";
        var failed = WarmupImage("shop", "registry.local/web:typo", ("new-1", NodePullState.Failed, message));
        var stillPulling = WarmupImage("shop", "registry.local/sidecar:1", ("new-1", NodePullState.Pulling, null));
        var workload = Deployment("web", "registry.local/web:typo", "registry.local/sidecar:1");

        var waiting = Plan([WarmingNode("new-1")], [Policy("warm", enabled: true)], [workload], [failed, stillPulling]);
        var done = Plan([WarmingNode("new-1")], [Policy("warm", enabled: true)], [workload], [failed, WarmupImage("shop", "registry.local/sidecar:1", ("new-1", NodePullState.Skipped, null))]);

        Assert.Null(Assert.Single(waiting.Nodes).Lift);
        var verdict = Assert.Single(done.Nodes);
        Assert.Equal(WarmupOutcome.Failed, verdict.Lift);
        Assert.Equal(new ImageFailure("registry.local/web:typo", message), Assert.Single(verdict.Failures));
    }

    [Fact]
    public void At_the_longest_maxDuration_of_the_policies_that_apply_the_node_is_lifted_warm_or_not()
    {
        var policies = new[] { Policy("short", enabled: true, maxDuration: "2m"), Policy("long", enabled: true, maxDuration: "20m", selector: "team=b") };
        var node = WarmingNode("new-1", created: Now.AddMinutes(-19));
        var workloads = new[] { Deployment("web", "registry.local/web:2") };

        var before = Plan([node], policies, workloads);
        var after = Plan([node], policies, workloads, now: Now.AddMinutes(1));

        Assert.Equal(Now.AddMinutes(1), Assert.Single(before.Nodes).Deadline);
        Assert.Null(before.Nodes[0].Lift);
        Assert.Equal(WarmupOutcome.Timeout, Assert.Single(after.Nodes).Lift);
    }

    [Fact]
    public void A_policys_extra_images_are_pulled_in_Kwarms_namespace_without_secrets_tolerating_every_taint()
    {
        var policy = Policy("warm", enabled: true, extraImages: ["registry.local/agent:3", "registry.local/agent:3", "NOT a reference"]);
        var node = WarmingNode("new-1", taints: [new V1Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" }]);

        var plan = Plan([node], [policy], []);

        var image = Assert.Single(plan.Desired);
        Assert.Equal("kwarm-system", image.Metadata.NamespaceProperty);
        Assert.Equal("registry.local/agent:3", image.Spec.Image);
        Assert.Null(image.Spec.ImagePullSecrets);
        var everything = Assert.Single(image.Spec.Tolerations!);
        Assert.Equal("Exists", everything.OperatorProperty);
        Assert.Null(everything.Key);
        Assert.Equal(["registry.local/agent:3"], Assert.Single(plan.Nodes).Images);
    }

    [Fact]
    public void The_lift_tests_the_warming_taint_at_its_index_and_removes_only_it()
    {
        var node = WarmingNode("new-1", taints: [new V1Taint { Key = "node.cilium.io/agent-not-ready", Effect = "NoSchedule" }]);
        node.Spec.Taints = [node.Spec.Taints[1], node.Spec.Taints[0]];

        var patch = WarmingTaint.LiftPatch(node)!;

        Assert.Equal(
            """[{"op":"test","path":"/spec/taints/1/key","value":"kwarm.io/warming"},{"op":"test","path":"/spec/taints/1/effect","value":"NoSchedule"},{"op":"remove","path":"/spec/taints/1"}]""",
            Kwarm.Workloads.JsonPatchOperation.SerializeToString(patch));
        Assert.Null(WarmingTaint.LiftPatch(Node("old")));
    }

    internal static WarmupPlan Plan(
        IReadOnlyList<V1Node> nodes, IReadOnlyList<PrePullPolicy> policies, IReadOnlyList<V1Deployment> deployments, IReadOnlyList<PrePullImage>? images = null, DateTimeOffset? now = null) =>
        WarmupPlanner.Plan(new WarmupWorld(nodes, policies, [.. deployments.Select(WarmupWorkload.Of)], images ?? [], (_, _) => null, "kwarm-system", now ?? Now));

    internal static V1Node Node(string name, IList<V1Taint>? taints = null, IReadOnlyList<string>? images = null, DateTimeOffset? created = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = "uid-" + name, CreationTimestamp = (created ?? Now.AddMinutes(-1)).UtcDateTime, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
        Spec = new V1NodeSpec { Taints = taints is null ? null : [.. taints] },
        Status = new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }],
            Images = images is null ? null : [new V1ContainerImage { Names = [.. images] }],
        },
    };

    internal static V1Node WarmingNode(string name, IList<V1Taint>? taints = null, IReadOnlyList<string>? images = null, DateTimeOffset? created = null) =>
        Node(name, [new V1Taint { Key = KwarmApi.WarmingTaintKey, Value = "true", Effect = "NoSchedule" }, .. taints ?? []], images, created);

    internal static PrePullPolicy Policy(
        string name, bool enabled, string? maxDuration = null, Dictionary<string, string>? nodeSelector = null, DateTimeOffset? created = null, IList<string>? extraImages = null, string selector = "kwarm.io/enabled=true") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, CreationTimestamp = (created ?? Now.AddDays(-1)).UtcDateTime },
        Spec = new PrePullPolicySpec
        {
            Selector = new DeploymentSelector { MatchLabels = new Dictionary<string, string> { [selector.Split('=')[0]] = selector.Split('=')[1] } },
            NodeSelector = nodeSelector is null ? null : new V1LabelSelector { MatchLabels = nodeSelector },
            NodeWarmup = new NodeWarmupSpec { Enabled = enabled, MaxDuration = maxDuration, Images = extraImages },
        },
    };

    internal static V1Deployment Deployment(
        string name, string image, string? second = null, Dictionary<string, string>? nodeSelector = null, IList<V1Toleration>? tolerations = null, bool optIn = true) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "shop", Labels = optIn ? new Dictionary<string, string> { [KwarmApi.EnabledLabel] = "true" } : null },
        Spec = new V1DeploymentSpec
        {
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    Containers = [new V1Container { Name = "main", Image = image }, .. second is null ? Array.Empty<V1Container>() : [new V1Container { Name = "second", Image = second }]],
                    NodeSelector = nodeSelector,
                    Tolerations = tolerations,
                },
            },
        },
    };

    internal static PrePullImage WarmupImage(string ns, string image, params (string Node, NodePullState State, string? Error)[] nodes) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = WarmupNames.PrePullImage(image, nodes[0].Node),
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { [KwarmApi.WarmupLabel] = "true" },
            ResourceVersion = "1",
        },
        Spec = new PrePullImageSpec { Image = image, Nodes = new NodeTargets { Names = [.. nodes.Select(n => n.Node)] } },
        Status = new PrePullImageStatus { Nodes = [.. nodes.Select(n => new NodePullStatus { Node = n.Node, Status = n.State, Error = n.Error })] },
    };
}
