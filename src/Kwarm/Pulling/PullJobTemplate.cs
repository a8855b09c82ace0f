using System.Globalization;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// The pull Job of DESIGN §5: one pod pinned to one node, in the PrePullImage's namespace (so it pulls with the
/// workload's own secrets and service account), that pulls the target image and runs Kwarm's static
/// <c>noop</c> instead of the image's entrypoint, under the "restricted" Pod Security profile.
/// </summary>
public sealed class PullJobTemplate
{
    public const string PullContainer = "pull";
    public const string InstallContainer = "install-noop";
    public const string Volume = "kwarm";

    /// <summary>Where the pull container finds the helper (the emptyDir is mounted at <c>/kwarm</c> there).</summary>
    public const string NoopPath = "/kwarm/noop";

    /// <summary>Where the tools image keeps the helper.</summary>
    public const string ToolsNoopPath = "/kwarm/bin/noop";

    /// <summary>
    /// The init container mounts the emptyDir elsewhere: mounted at <c>/kwarm</c> it would hide the tools image's own
    /// <c>/kwarm/bin/noop</c>.
    /// </summary>
    public const string InstallMountPath = "/kwarm-install";

    /// <summary>A non-root uid/gid (distroless' "nonroot"), so <c>runAsNonRoot</c> holds for images without a USER.</summary>
    public const long NonRootId = 65532;

    /// <summary>Finished attempts are deleted by Kwarm at once; this only cleans up after a Kwarm that is gone.</summary>
    public static readonly TimeSpan TtlAfterFinished = TimeSpan.FromMinutes(10);

    private readonly string _toolsImage;

    public PullJobTemplate(string toolsImage)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(toolsImage);
        _toolsImage = toolsImage;
    }

    public V1Job Build(PullAttempt attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var image = attempt.PrePullImage;
        var metadata = image.Metadata;
        var spec = image.Spec;
        var name = PullObjectNames.JobName(metadata.NamespaceProperty ?? "", metadata.Name ?? "", attempt.Node, attempt.Attempt);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ManagedObjects.Label] = ManagedObjects.Value,
            [PullObjectNames.PrePullImageLabel] = PullObjectNames.LabelValue(metadata.Name ?? ""),
            [PullObjectNames.NodeLabel] = PullObjectNames.LabelValue(attempt.Node),
        };
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [PullObjectNames.PrePullImageAnnotation] = metadata.Name ?? "",
            [PullObjectNames.NodeAnnotation] = attempt.Node,
            [PullObjectNames.AttemptAnnotation] = attempt.Attempt.ToString(CultureInfo.InvariantCulture),
        };

        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = metadata.NamespaceProperty,
                Labels = labels,
                Annotations = annotations,
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = image.ApiVersion,
                        Kind = PrePullImage.KubeKind,
                        Name = metadata.Name,
                        Uid = metadata.Uid,
                        Controller = true,
                        BlockOwnerDeletion = true,
                    },
                ],
            },
            Spec = new V1JobSpec
            {
                BackoffLimit = 0,
                ActiveDeadlineSeconds = (long)Math.Max(1, Math.Ceiling(spec.EffectiveTimeout.TotalSeconds)),
                TtlSecondsAfterFinished = (int)TtlAfterFinished.TotalSeconds,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta
                    {
                        Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal),
                        Annotations = new Dictionary<string, string>(annotations, StringComparer.Ordinal),
                    },
                    Spec = PodSpec(spec, attempt.Node),
                },
            },
        };
    }

    private V1PodSpec PodSpec(PrePullImageSpec spec, string node) => new()
    {
        RestartPolicy = "Never",
        AutomountServiceAccountToken = false,
        EnableServiceLinks = false,
        ServiceAccountName = string.IsNullOrEmpty(spec.ServiceAccountName) ? null : spec.ServiceAccountName,
        ImagePullSecrets = spec.ImagePullSecrets?.Select(secret => new V1LocalObjectReference { Name = secret.Name }).ToList(),
        Tolerations = spec.Tolerations?.ToList(),
        PriorityClassName = string.IsNullOrEmpty(spec.PriorityClassName) ? null : spec.PriorityClassName,
        TerminationGracePeriodSeconds = 0,
        SecurityContext = new V1PodSecurityContext
        {
            RunAsNonRoot = true,
            RunAsUser = NonRootId,
            RunAsGroup = NonRootId,
            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
        },
        Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms =
                    [
                        new V1NodeSelectorTerm
                        {
                            MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [node] }],
                        },
                    ],
                },
            },
        },
        Volumes = [new V1Volume { Name = Volume, EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("16Mi") } }],
        InitContainers =
        [
            new V1Container
            {
                Name = InstallContainer,
                Image = _toolsImage,
                ImagePullPolicy = "IfNotPresent",
                Command = [ToolsNoopPath, "install", InstallMountPath + "/noop"],
                VolumeMounts = [new V1VolumeMount { Name = Volume, MountPath = InstallMountPath }],
                Resources = spec.EffectiveResources,
                SecurityContext = ContainerSecurity(),
            },
        ],
        Containers =
        [
            new V1Container
            {
                Name = PullContainer,
                Image = spec.PullReference,
                ImagePullPolicy = spec.ImagePullPolicy?.ToString(),
                Command = [NoopPath],
                VolumeMounts = [new V1VolumeMount { Name = Volume, MountPath = "/kwarm", ReadOnlyProperty = true }],
                Resources = spec.EffectiveResources,
                SecurityContext = ContainerSecurity(),
            },
        ],
    };

    private static V1SecurityContext ContainerSecurity() => new()
    {
        RunAsNonRoot = true,
        RunAsUser = NonRootId,
        RunAsGroup = NonRootId,
        AllowPrivilegeEscalation = false,
        Privileged = false,
        ReadOnlyRootFilesystem = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };
}
