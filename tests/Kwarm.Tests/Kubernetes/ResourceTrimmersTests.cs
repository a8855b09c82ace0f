using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Tests.Kubernetes;

public sealed class ResourceTrimmersTests
{
    [Fact]
    public void A_deployment_keeps_what_Kwarm_reads_and_loses_the_rest()
    {
        var recorded = KubernetesJson.Deserialize<V1Deployment>(ApiFixtures.Text("get-deployment.json"));
        recorded.Metadata.Annotations ??= new Dictionary<string, string>();
        recorded.Metadata.Annotations[ResourceTrimmers.LastAppliedAnnotation] = "{\"huge\":true}";
        recorded.Metadata.Annotations[Kwarm.Resources.KwarmApi.HoldAnnotation] = "abc123";
        var template = recorded.Spec.Template.Spec;
        template.NodeSelector = new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" };
        template.Tolerations = [new V1Toleration { Key = "gpu", OperatorProperty = "Exists", Effect = "NoSchedule" }];
        template.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = "pool", OperatorProperty = "In", Values = ["a"] }] }],
                },
            },
            PodAntiAffinity = new V1PodAntiAffinity(),
        };
        template.ImagePullSecrets = [new V1LocalObjectReference { Name = "registry" }];
        template.ServiceAccountName = "web";
        template.InitContainers = [new V1Container { Name = "init", Image = "busybox:1", Command = ["true"], ImagePullPolicy = "Always" }];

        var trimmed = ResourceTrimmers.Deployment(recorded);

        Assert.NotNull(recorded.Metadata.ManagedFields);
        Assert.Null(trimmed.Metadata.ManagedFields);
        Assert.Equal(recorded.Metadata.Uid, trimmed.Metadata.Uid);
        Assert.Equal(recorded.Metadata.ResourceVersion, trimmed.Metadata.ResourceVersion);
        Assert.Equal(recorded.Metadata.Generation, trimmed.Metadata.Generation);
        Assert.Equal(recorded.Metadata.CreationTimestamp, trimmed.Metadata.CreationTimestamp);
        Assert.Equal(recorded.Metadata.Labels, trimmed.Metadata.Labels);
        Assert.Equal("abc123", trimmed.Metadata.Annotations[Kwarm.Resources.KwarmApi.HoldAnnotation]);
        Assert.False(trimmed.Metadata.Annotations.ContainsKey(ResourceTrimmers.LastAppliedAnnotation));
        Assert.True(recorded.Metadata.Annotations.ContainsKey(ResourceTrimmers.LastAppliedAnnotation));

        Assert.Equal(recorded.Spec.Replicas, trimmed.Spec.Replicas);
        Assert.Equal(recorded.Spec.Selector, trimmed.Spec.Selector);
        Assert.Null(trimmed.Spec.Strategy);
        Assert.Null(trimmed.Spec.RevisionHistoryLimit);
        var container = Assert.Single(trimmed.Spec.Template.Spec.Containers);
        var original = recorded.Spec.Template.Spec.Containers[0];
        Assert.Equal((original.Name, original.Image, original.ImagePullPolicy), (container.Name, container.Image, container.ImagePullPolicy));
        Assert.Null(container.TerminationMessagePath);
        Assert.Null(container.Resources);
        Assert.Equal(["true"], recorded.Spec.Template.Spec.InitContainers[0].Command);
        Assert.Null(Assert.Single(trimmed.Spec.Template.Spec.InitContainers).Command);
        Assert.Equal(recorded.Spec.Template.Metadata.Labels, trimmed.Spec.Template.Metadata.Labels);
        Assert.Equal("linux", trimmed.Spec.Template.Spec.NodeSelector["kubernetes.io/os"]);
        Assert.Equal("gpu", Assert.Single(trimmed.Spec.Template.Spec.Tolerations).Key);
        Assert.Equal("pool", trimmed.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key);
        Assert.Null(trimmed.Spec.Template.Spec.Affinity.PodAntiAffinity);
        Assert.Equal("registry", Assert.Single(trimmed.Spec.Template.Spec.ImagePullSecrets).Name);
        Assert.Equal("web", trimmed.Spec.Template.Spec.ServiceAccountName);
        Assert.Null(trimmed.Spec.Template.Spec.RestartPolicy);
        Assert.Null(trimmed.Spec.Template.Spec.DnsPolicy);

        Assert.Equal(recorded.Status.ObservedGeneration, trimmed.Status.ObservedGeneration);
        Assert.Equal(recorded.Status.Replicas, trimmed.Status.Replicas);
        Assert.NotEmpty(recorded.Status.Conditions);
        Assert.Null(trimmed.Status.Conditions);
        Assert.True(KubernetesJson.Serialize(trimmed).Length < KubernetesJson.Serialize(recorded).Length / 2);
    }

    [Fact]
    public void A_node_keeps_labels_taints_readiness_image_names_and_platform()
    {
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta
            {
                Name = "node-a",
                Labels = new Dictionary<string, string> { ["pool"] = "a" },
                Annotations = new Dictionary<string, string> { ["node.alpha.kubernetes.io/ttl"] = "0" },
                ManagedFields = [new V1ManagedFieldsEntry { Manager = "kubelet" }],
            },
            Spec = new V1NodeSpec { Unschedulable = true, Taints = [new V1Taint { Effect = "NoSchedule", Key = "gpu" }], PodCIDR = "10.0.0.0/24" },
            Status = new V1NodeStatus
            {
                Conditions =
                [
                    new V1NodeCondition { Status = "False", Type = "MemoryPressure" },
                    new V1NodeCondition { Status = "True", Type = "Ready", Reason = "KubeletReady" },
                ],
                Images = [new V1ContainerImage { Names = ["registry.local/shop/web@sha256:abc", "registry.local/shop/web:1.1"], SizeBytes = 123456789 }],
                NodeInfo = new V1NodeSystemInfo { Architecture = "amd64", BootID = "bootid", KubeletVersion = "v1.24.0", OperatingSystem = "linux", OsImage = "Debian" },
                Capacity = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("4") },
            },
        };

        var trimmed = ResourceTrimmers.Node(node);

        Assert.Equal("a", trimmed.Metadata.Labels["pool"]);
        Assert.Null(trimmed.Metadata.Annotations);
        Assert.Null(trimmed.Metadata.ManagedFields);
        Assert.True(trimmed.Spec.Unschedulable);
        Assert.Equal("gpu", Assert.Single(trimmed.Spec.Taints).Key);
        Assert.Null(trimmed.Spec.PodCIDR);
        Assert.Equal(("Ready", "True"), (Assert.Single(trimmed.Status.Conditions).Type, trimmed.Status.Conditions[0].Status));
        var image = Assert.Single(trimmed.Status.Images);
        Assert.Equal(node.Status.Images[0].Names, image.Names);
        Assert.Null(image.SizeBytes);
        Assert.Equal(("linux", "amd64"), (trimmed.Status.NodeInfo.OperatingSystem, trimmed.Status.NodeInfo.Architecture));
        Assert.Null(trimmed.Status.NodeInfo.KubeletVersion);
        Assert.Null(trimmed.Status.Capacity);
    }

    [Fact]
    public void A_pod_keeps_its_owner_node_phase_and_the_kubelets_image_messages()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = "pull-1",
                NamespaceProperty = "shop",
                OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = "pull", Uid = "job-uid" }],
            },
            Spec = new V1PodSpec
            {
                NodeName = "node-a",
                Containers = [new V1Container { Name = "pull", Image = "registry.local/shop/web:1.2", Command = ["/kwarm/noop"] }],
                Volumes = [new V1Volume { Name = "kwarm" }],
            },
            Status = new V1PodStatus
            {
                Phase = "Pending",
                ContainerStatuses =
                [
                    new V1ContainerStatus
                    {
                        Image = "registry.local/shop/web:1.2",
                        ImageID = "",
                        Name = "pull",
                        State = new V1ContainerState
                        {
                            Waiting = new V1ContainerStateWaiting { Message = "Back-off pulling image \"registry.local/shop/web:1.2\"", Reason = "ImagePullBackOff" },
                        },
                    },
                ],
                InitContainerStatuses =
                [
                    new V1ContainerStatus
                    {
                        Image = "ghcr.io/kwarm-io/kwarm:latest",
                        ImageID = "ghcr.io/kwarm-io/kwarm@sha256:def",
                        Name = "copy-noop",
                        Ready = true,
                        State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 0, Reason = "Completed" } },
                    },
                ],
            },
        };

        var trimmed = ResourceTrimmers.Pod(pod);

        Assert.Equal("job-uid", Assert.Single(trimmed.Metadata.OwnerReferences).Uid);
        Assert.Equal("node-a", trimmed.Spec.NodeName);
        Assert.Null(trimmed.Spec.Volumes);
        Assert.Null(trimmed.Spec.Containers[0].Command);
        Assert.Equal("Pending", trimmed.Status.Phase);
        var waiting = Assert.Single(trimmed.Status.ContainerStatuses).State.Waiting;
        Assert.Equal("ImagePullBackOff", waiting.Reason);
        Assert.StartsWith("Back-off pulling image", waiting.Message, StringComparison.Ordinal);
        var init = Assert.Single(trimmed.Status.InitContainerStatuses);
        Assert.Equal("ghcr.io/kwarm-io/kwarm@sha256:def", init.ImageID);
        Assert.Equal(0, init.State.Terminated.ExitCode);
    }

    [Fact]
    public void A_service_account_keeps_only_its_identity_and_pull_secrets()
    {
        var account = new V1ServiceAccount
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Labels = new Dictionary<string, string> { ["a"] = "b" } },
            ImagePullSecrets = [new V1LocalObjectReference { Name = "registry" }],
            Secrets = [new V1ObjectReference { Name = "token" }],
        };

        var trimmed = ResourceTrimmers.ServiceAccount(account);

        Assert.Equal("shop/web", ResourceKeys.For(trimmed));
        Assert.Equal("registry", Assert.Single(trimmed.ImagePullSecrets).Name);
        Assert.Null(trimmed.Secrets);
        Assert.Null(trimmed.Metadata.Labels);
    }

    [Fact]
    public void Kwarm_resources_are_kept_whole_but_for_server_bookkeeping()
    {
        var image = new PrePullImage
        {
            Metadata = new V1ObjectMeta
            {
                Name = "web-abc",
                NamespaceProperty = "shop",
                ManagedFields = [new V1ManagedFieldsEntry { Manager = "kwarm" }],
                Labels = new Dictionary<string, string> { [KwarmApi.HoldLabel] = "abc" },
            },
            Spec = new PrePullImageSpec { Image = "registry.local/shop/web:1.2", Nodes = new NodeTargets { Names = ["node-a"] }, Timeout = "90s" },
            Status = new PrePullImageStatus { Phase = PrePullImagePhase.InProgress, Nodes = [new NodePullStatus { Node = "node-a", Status = NodePullState.Pulling }] },
        };

        var trimmed = ResourceTrimmers.PrePullImage(image);

        Assert.Null(trimmed.Metadata.ManagedFields);
        Assert.NotNull(image.Metadata.ManagedFields);
        Assert.Equal("abc", trimmed.Metadata.Labels[KwarmApi.HoldLabel]);
        Assert.Same(image.Spec, trimmed.Spec);
        Assert.Same(image.Status, trimmed.Status);
    }

    [Fact]
    public void A_statefulset_keeps_its_template_strategy_and_rollout_status()
    {
        var statefulSet = KubernetesJson.Deserialize<V1StatefulSet>(Kwarm.Tests.Holds.HoldWorld.StatefulSetJson("db", ["registry.local/data/db:2"], System.Text.Json.Nodes.JsonNode.Parse("""{"type":"RollingUpdate","rollingUpdate":{"partition":3,"maxUnavailable":2}}""")).ToJsonString());
        statefulSet.Metadata.Annotations = new Dictionary<string, string> { [ResourceTrimmers.LastAppliedAnnotation] = "{}", ["kwarm.io/partition"] = "1" };
        statefulSet.Status.CurrentRevision = "db-1";
        statefulSet.Status.UpdateRevision = "db-2";

        var trimmed = ResourceTrimmers.StatefulSet(statefulSet);

        Assert.Equal(("RollingUpdate", 3, (IntOrString?)null), (trimmed.Spec.UpdateStrategy.Type, trimmed.Spec.UpdateStrategy.RollingUpdate.Partition, trimmed.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable));
        Assert.Equal(new Dictionary<string, string> { ["kwarm.io/partition"] = "1" }, trimmed.Metadata.Annotations);
        Assert.Equal(("registry.local/data/db:2", 3, 3, "db-1", "db-2"), (trimmed.Spec.Template.Spec.Containers[0].Image, trimmed.Spec.Replicas, trimmed.Status.UpdatedReplicas, trimmed.Status.CurrentRevision, trimmed.Status.UpdateRevision));
        Assert.Null(trimmed.Spec.ServiceName);
        Assert.Null(trimmed.Spec.Template.Spec.DnsPolicy);
    }

    [Fact]
    public void A_daemonset_keeps_its_strategy_host_network_and_scheduled_counts()
    {
        var daemonSet = KubernetesJson.Deserialize<V1DaemonSet>(Kwarm.Tests.Holds.HoldWorld.DaemonSetJson("agent", ["registry.local/ops/agent:1"]).ToJsonString());
        daemonSet.Spec.Template.Spec.HostNetwork = true;

        var trimmed = ResourceTrimmers.DaemonSet(daemonSet);

        Assert.Equal(KubernetesJson.Serialize(daemonSet.Spec.UpdateStrategy), KubernetesJson.Serialize(trimmed.Spec.UpdateStrategy));
        Assert.True(trimmed.Spec.Template.Spec.HostNetwork);
        Assert.Equal((4, 4, 4), (trimmed.Status.DesiredNumberScheduled, trimmed.Status.CurrentNumberScheduled, trimmed.Status.UpdatedNumberScheduled));
        Assert.Null(trimmed.Spec.RevisionHistoryLimit);
    }
}
