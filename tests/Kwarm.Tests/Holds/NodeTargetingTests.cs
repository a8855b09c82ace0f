using k8s.Models;
using Kwarm.Holds;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Holds;

public sealed class NodeTargetingTests
{
    private static readonly V1LabelSelector PoolWeb = new() { MatchLabels = new Dictionary<string, string> { ["pool"] = "web" } };

    private static V1NodeSelectorTerm Term(string key, string op, params string[] values) =>
        new() { MatchExpressions = [new V1NodeSelectorRequirement { Key = key, OperatorProperty = op, Values = values.Length > 0 ? values : null }] };

    private static V1PodSpec Pod(IDictionary<string, string>? nodeSelector = null, params V1NodeSelectorTerm[] terms) => new()
    {
        Containers = [new V1Container { Name = "app", Image = "app:1" }],
        NodeSelector = nodeSelector,
        Affinity = terms.Length == 0 ? null : new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity { RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector { NodeSelectorTerms = terms } },
        },
    };

    private static Dictionary<string, string> Labels(params string[] pairs) =>
        pairs.Select(pair => pair.Split('=')).ToDictionary(parts => parts[0], parts => parts[1]);

    [Fact]
    public void No_policy_selector_and_no_pod_constraint_targets_every_node()
    {
        Assert.Null(PodPullSettings.Targets(null, Pod()));
    }

    [Fact]
    public void Policy_selector_pod_nodeSelector_and_a_single_affinity_term_intersect_in_one_label_selector()
    {
        var targets = PodPullSettings.Targets(PoolWeb, Pod(Labels("zone=a"), Term("arch", "In", "amd64", "arm64")))!;

        Assert.Null(targets.NodeAffinity);
        Assert.True(targets.Includes("n1", Labels("pool=web", "zone=a", "arch=arm64")));
        Assert.False(targets.Includes("n2", Labels("pool=web", "zone=b", "arch=arm64")));
        Assert.False(targets.Includes("n3", Labels("pool=db", "zone=a", "arch=arm64")));
        Assert.False(targets.Includes("n4", Labels("pool=web", "zone=a", "arch=s390x")));
    }

    [Fact]
    public void A_pod_nodeSelector_that_contradicts_the_policy_selects_no_node()
    {
        var targets = PodPullSettings.Targets(PoolWeb, Pod(Labels("pool=db")))!;

        Assert.False(targets.Includes("n1", Labels("pool=web")));
        Assert.False(targets.Includes("n2", Labels("pool=db")));
    }

    [Fact]
    public void Several_affinity_terms_are_ORed_through_nodeAffinity()
    {
        var targets = PodPullSettings.Targets(PoolWeb, Pod(null, Term("zone", "In", "a"), Term("gpu", "Gt", "2")))!;

        Assert.NotNull(targets.NodeAffinity);
        Assert.True(targets.Includes("n1", Labels("pool=web", "zone=a")));
        Assert.True(targets.Includes("n2", Labels("pool=web", "zone=b", "gpu=4")));
        Assert.False(targets.Includes("n3", Labels("pool=web", "zone=b", "gpu=2")));
        Assert.False(targets.Includes("n4", Labels("pool=db", "zone=a")));
    }

    [Fact]
    public void A_matchFields_term_keeps_its_node_name_semantics()
    {
        var byName = new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = ["node-7"] }] };

        var targets = PodPullSettings.Targets(null, Pod(null, byName))!;

        Assert.True(targets.Includes("node-7", Labels()));
        Assert.False(targets.Includes("node-8", Labels()));
    }

    [Fact]
    public void Inherited_pull_secrets_come_from_the_template_then_the_service_account_then_additional_each_once()
    {
        var policy = new PrePullPolicySpec { ImagePullSecrets = new PolicyImagePullSecrets { Additional = [new V1LocalObjectReference { Name = "extra" }, new V1LocalObjectReference { Name = "pod" }] } };
        var pod = Pod();
        pod.ImagePullSecrets = [new V1LocalObjectReference { Name = "pod" }];
        var account = new V1ServiceAccount { ImagePullSecrets = [new V1LocalObjectReference { Name = "sa" }, new V1LocalObjectReference { Name = "pod" }] };

        Assert.Equal(["pod", "sa", "extra"], PodPullSettings.PullSecrets(policy, pod, account).Select(s => s.Name));

        policy.ImagePullSecrets.Inherit = false;
        Assert.Equal(["extra", "pod"], PodPullSettings.PullSecrets(policy, pod, account).Select(s => s.Name));
    }

    [Fact]
    public void The_pull_policy_is_Always_when_any_container_of_the_image_says_so_else_the_first_given_else_absent()
    {
        var pod = Pod();
        pod.Containers =
        [
            new V1Container { Name = "a", Image = "app:1", ImagePullPolicy = "IfNotPresent" },
            new V1Container { Name = "b", Image = "app:1", ImagePullPolicy = "Always" },
            new V1Container { Name = "c", Image = "side:1", ImagePullPolicy = "Never" },
            new V1Container { Name = "d", Image = "plain:1" },
        ];

        Assert.Equal(ImagePullPolicy.Always, PodPullSettings.PullPolicy(pod, "app:1"));
        Assert.Equal(ImagePullPolicy.Always, PodPullSettings.PullPolicy(pod, "docker.io/library/app:1"));
        Assert.Equal(ImagePullPolicy.Never, PodPullSettings.PullPolicy(pod, "side:1"));
        Assert.Null(PodPullSettings.PullPolicy(pod, "plain:1"));
    }
}
