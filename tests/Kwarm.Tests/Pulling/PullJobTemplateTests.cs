using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Pulling;
using Kwarm.Resources;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

public sealed class PullJobTemplateTests
{
    private const string Tools = "ghcr.io/kwarm-io/kwarm:1.0";

    private static readonly PrePullImage Target = Image("shop", "web-5d8f7c-0", new PrePullImageSpec
    {
        Image = "registry.local/shop/web:1.2",
        ImageDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ImagePullPolicy = ImagePullPolicy.Always,
        ImagePullSecrets = [new V1LocalObjectReference { Name = "registry-cred" }],
        ServiceAccountName = "web",
        Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Exists" }],
        PriorityClassName = "low",
        Timeout = "90s",
    });

    [Fact]
    public void The_job_is_owned_labelled_bounded_and_lives_in_the_images_namespace()
    {
        var node = "ip-10-0-1-23." + new string('x', 230);
        var job = new PullJobTemplate(Tools).Build(new PullAttempt(Target, node, 2));

        Assert.Equal("shop", job.Metadata.NamespaceProperty);
        Assert.Equal(PullObjectNames.JobName("shop", "web-5d8f7c-0", node, 2), job.Metadata.Name);
        var owner = Assert.Single(job.Metadata.OwnerReferences);
        Assert.Equal(("kwarm.io/v1alpha1", "PrePullImage", "web-5d8f7c-0", "uid-shop-web-5d8f7c-0", true, true),
            (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));

        foreach (var labels in new[] { job.Metadata.Labels, job.Spec.Template.Metadata.Labels })
        {
            Assert.Equal(ManagedObjects.Value, labels[ManagedObjects.Label]);
            Assert.Equal("web-5d8f7c-0", labels[PullObjectNames.PrePullImageLabel]);
            Assert.True(labels[PullObjectNames.NodeLabel].Length <= 63);
            Assert.NotEqual(node, labels[PullObjectNames.NodeLabel]);
        }

        foreach (var annotations in new[] { job.Metadata.Annotations, job.Spec.Template.Metadata.Annotations })
        {
            Assert.Equal(node, annotations[PullObjectNames.NodeAnnotation]);
            Assert.Equal("2", annotations[PullObjectNames.AttemptAnnotation]);
            Assert.Equal("web-5d8f7c-0", annotations[PullObjectNames.PrePullImageAnnotation]);
        }

        Assert.Equal(0, job.Spec.BackoffLimit);
        Assert.Equal(90, job.Spec.ActiveDeadlineSeconds);
        Assert.NotNull(job.Spec.TtlSecondsAfterFinished);
    }

    [Fact]
    public void The_pod_is_pinned_to_its_node_and_runs_noop_in_the_target_image()
    {
        var pod = new PullJobTemplate(Tools).Build(new PullAttempt(Target, "node-7", 1)).Spec.Template.Spec;

        var term = Assert.Single(pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms);
        var field = Assert.Single(term.MatchFields);
        Assert.Equal(("metadata.name", "In", "node-7"), (field.Key, field.OperatorProperty, Assert.Single(field.Values)));
        Assert.Null(term.MatchExpressions);

        var init = Assert.Single(pod.InitContainers);
        Assert.Equal(Tools, init.Image);
        Assert.Equal(["/kwarm/bin/noop", "install", "/kwarm-install/noop"], init.Command);
        Assert.Equal("/kwarm-install", Assert.Single(init.VolumeMounts).MountPath);

        var pull = Assert.Single(pod.Containers);
        Assert.Equal("registry.local/shop/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", pull.Image);
        Assert.Equal(["/kwarm/noop"], pull.Command);
        Assert.Null(pull.Args);
        Assert.Equal("Always", pull.ImagePullPolicy);
        var mount = Assert.Single(pull.VolumeMounts);
        Assert.Equal(("/kwarm", true), (mount.MountPath, mount.ReadOnlyProperty));
        var volume = Assert.Single(pod.Volumes);
        Assert.Equal(init.VolumeMounts[0].Name, volume.Name);
        Assert.Equal(mount.Name, volume.Name);
        Assert.NotNull(volume.EmptyDir);

        Assert.Equal("Never", pod.RestartPolicy);
        Assert.Equal("registry-cred", Assert.Single(pod.ImagePullSecrets).Name);
        Assert.Equal("web", pod.ServiceAccountName);
        Assert.Equal("dedicated", Assert.Single(pod.Tolerations).Key);
        Assert.Equal("low", pod.PriorityClassName);
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.False(pod.EnableServiceLinks);
        foreach (var container in new[] { init, pull })
        {
            Assert.Equal("100m", container.Resources.Requests["cpu"].ToString());
            Assert.Equal("64Mi", container.Resources.Limits["memory"].ToString());
        }
    }

    [Fact]
    public void The_pod_meets_the_restricted_pod_security_standard()
    {
        var pod = new PullJobTemplate(Tools).Build(new PullAttempt(Target, "node-7", 1)).Spec.Template.Spec;

        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.NotEqual(0, pod.SecurityContext.RunAsUser);
        Assert.NotEqual(0, pod.SecurityContext.RunAsGroup);
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
        Assert.Null(pod.HostNetwork);
        Assert.Null(pod.HostPID);
        Assert.All(pod.Volumes, volume => Assert.Null(volume.HostPath));
        foreach (var container in pod.InitContainers.Concat(pod.Containers))
        {
            var security = container.SecurityContext;
            Assert.True(security.RunAsNonRoot);
            Assert.True(security.RunAsUser is > 0);
            Assert.False(security.AllowPrivilegeEscalation);
            Assert.False(security.Privileged);
            Assert.True(security.ReadOnlyRootFilesystem);
            Assert.Equal(["ALL"], security.Capabilities.Drop);
            Assert.Null(security.Capabilities.Add);
            Assert.Equal("RuntimeDefault", security.SeccompProfile.Type);
        }
    }

    [Fact]
    public void Without_a_pull_policy_or_service_account_the_kubernetes_defaults_apply()
    {
        var plain = Image("shop", "plain", new PrePullImageSpec { Image = "busybox:1.36" });
        var pod = new PullJobTemplate(Tools).Build(new PullAttempt(plain, "n", 1)).Spec.Template.Spec;

        Assert.Null(pod.Containers[0].ImagePullPolicy);
        Assert.Equal("busybox:1.36", pod.Containers[0].Image);
        Assert.Null(pod.ServiceAccountName);
        Assert.Null(pod.ImagePullSecrets);
        Assert.Null(pod.PriorityClassName);
    }
}
