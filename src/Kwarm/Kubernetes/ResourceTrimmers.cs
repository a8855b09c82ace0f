using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Kubernetes;

/// <summary>
/// Copies of API objects holding only the fields Kwarm reads, applied by the informers before an object
/// enters a cache: that is what keeps the operator within 150 MiB with 1,000 nodes and 5,000 Deployments
/// cached (DESIGN §9). <c>managedFields</c> and the <c>kubectl.kubernetes.io/last-applied-configuration</c>
/// annotation, the two largest parts of most objects, are dropped everywhere.
/// <list type="bullet">
/// <item>Deployment: metadata (name, namespace, uid, resourceVersion, generation, creation and deletion
///   timestamps, labels, annotations, owner references, finalizers); spec.replicas, paused, selector; the pod
///   template's labels and, of its spec, containers and initContainers (name, image, imagePullPolicy),
///   nodeSelector, the required terms of nodeAffinity, tolerations, imagePullSecrets, serviceAccountName, hostNetwork;
///   status replica counts and observedGeneration. Template annotations, resources, probes, env, volumes, the
///   strategy and the status conditions (which Kwarm never reads) are dropped.</item>
/// <item>StatefulSet: metadata and pod template as a Deployment's; spec.replicas, selector and updateStrategy (type and
///   rollingUpdate.partition: the hold); status replicas, updatedReplicas, readyReplicas, current and update revisions,
///   observedGeneration.</item>
/// <item>DaemonSet: metadata and pod template as a Deployment's (hostNetwork decides a daemon pod's tolerations);
///   spec.selector and updateStrategy (the hold); status desired, current, updated, ready and available counts and
///   observedGeneration.</item>
/// <item>Node: name, uid, resourceVersion, labels, timestamps; taints and unschedulable; only the Ready
///   condition; the names (not sizes) of status.images; nodeInfo operatingSystem and architecture.</item>
/// <item>Job: metadata with annotations; activeDeadlineSeconds, backoffLimit, ttlSecondsAfterFinished; the
///   template's labels, containers, nodeName and node affinity; status counts, times and conditions.</item>
/// <item>Pod: metadata with owners; nodeName and container names/images; phase, reason, message, conditions
///   and the container statuses (name, image, imageID, ready, restarts, state and last state with waiting
///   reason/message and terminated exit code/reason/message).</item>
/// <item>ServiceAccount: name, namespace, uid, resourceVersion, imagePullSecrets.</item>
/// <item>Namespace: name, uid, resourceVersion, labels, deletion timestamp, phase.</item>
/// <item>PrePullPolicy, PrePullImage: kept whole, minus managedFields and the last-applied annotation.</item>
/// </list>
/// A trimmed object is not a faithful copy: never send one back to the API server with PUT.
/// </summary>
public static class ResourceTrimmers
{
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    public static V1Deployment Deployment(V1Deployment deployment) => Deployment(deployment, null);

    /// <summary>As <see cref="Deployment(V1Deployment)"/>, with the strings other objects repeat taken from <paramref name="strings"/>.</summary>
    public static V1Deployment Deployment(V1Deployment deployment, CachedStrings? strings)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var spec = deployment.Spec;
        var status = deployment.Status;
        return new V1Deployment
        {
            ApiVersion = Intern(strings, deployment.ApiVersion),
            Kind = Intern(strings, deployment.Kind),
            Metadata = Metadata(deployment.Metadata, strings: strings),
            Spec = spec is null ? null : new V1DeploymentSpec
            {
                Replicas = spec.Replicas,
                Paused = spec.Paused,
                Selector = Selector(spec.Selector, strings),
                Template = PodTemplate(spec.Template, strings),
            },
            Status = status is null ? null : new V1DeploymentStatus
            {
                Replicas = status.Replicas,
                UpdatedReplicas = status.UpdatedReplicas,
                ReadyReplicas = status.ReadyReplicas,
                AvailableReplicas = status.AvailableReplicas,
                UnavailableReplicas = status.UnavailableReplicas,
                ObservedGeneration = status.ObservedGeneration,
            },
        };
    }

    public static V1StatefulSet StatefulSet(V1StatefulSet statefulSet) => StatefulSet(statefulSet, null);

    /// <summary>As <see cref="StatefulSet(V1StatefulSet)"/>, with the strings other objects repeat taken from <paramref name="strings"/>.</summary>
    public static V1StatefulSet StatefulSet(V1StatefulSet statefulSet, CachedStrings? strings)
    {
        ArgumentNullException.ThrowIfNull(statefulSet);
        var spec = statefulSet.Spec;
        var status = statefulSet.Status;
        var strategy = spec?.UpdateStrategy;
        return new V1StatefulSet
        {
            ApiVersion = Intern(strings, statefulSet.ApiVersion),
            Kind = Intern(strings, statefulSet.Kind),
            Metadata = Metadata(statefulSet.Metadata, strings: strings),
            Spec = spec is null ? null : new V1StatefulSetSpec
            {
                Replicas = spec.Replicas,
                Selector = Selector(spec.Selector, strings),
                Template = PodTemplate(spec.Template, strings),
                UpdateStrategy = strategy is null ? null : new V1StatefulSetUpdateStrategy
                {
                    Type = strategy.Type,
                    RollingUpdate = strategy.RollingUpdate is null ? null : new V1RollingUpdateStatefulSetStrategy { Partition = strategy.RollingUpdate.Partition },
                },
            },
            Status = status is null ? null : new V1StatefulSetStatus
            {
                Replicas = status.Replicas,
                UpdatedReplicas = status.UpdatedReplicas,
                ReadyReplicas = status.ReadyReplicas,
                CurrentRevision = status.CurrentRevision,
                UpdateRevision = status.UpdateRevision,
                ObservedGeneration = status.ObservedGeneration,
            },
        };
    }

    public static V1DaemonSet DaemonSet(V1DaemonSet daemonSet) => DaemonSet(daemonSet, null);

    /// <summary>As <see cref="DaemonSet(V1DaemonSet)"/>, with the strings other objects repeat taken from <paramref name="strings"/>.</summary>
    public static V1DaemonSet DaemonSet(V1DaemonSet daemonSet, CachedStrings? strings)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        var spec = daemonSet.Spec;
        var status = daemonSet.Status;
        return new V1DaemonSet
        {
            ApiVersion = Intern(strings, daemonSet.ApiVersion),
            Kind = Intern(strings, daemonSet.Kind),
            Metadata = Metadata(daemonSet.Metadata, strings: strings),
            Spec = spec is null ? null : new V1DaemonSetSpec
            {
                Selector = Selector(spec.Selector, strings),
                Template = PodTemplate(spec.Template, strings),
                UpdateStrategy = spec.UpdateStrategy,
            },
            Status = status is null ? null : new V1DaemonSetStatus
            {
                DesiredNumberScheduled = status.DesiredNumberScheduled,
                CurrentNumberScheduled = status.CurrentNumberScheduled,
                UpdatedNumberScheduled = status.UpdatedNumberScheduled,
                NumberReady = status.NumberReady,
                NumberAvailable = status.NumberAvailable,
                NumberMisscheduled = status.NumberMisscheduled,
                ObservedGeneration = status.ObservedGeneration,
            },
        };
    }

    public static V1Node Node(V1Node node) => Node(node, null);

    /// <summary>
    /// As <see cref="Node(V1Node)"/>, with the strings other objects repeat taken from <paramref name="strings"/>: above
    /// all the image names, which every node that holds an image lists again.
    /// </summary>
    public static V1Node Node(V1Node node, CachedStrings? strings)
    {
        ArgumentNullException.ThrowIfNull(node);
        var status = node.Status;
        return new V1Node
        {
            ApiVersion = Intern(strings, node.ApiVersion),
            Kind = Intern(strings, node.Kind),
            Metadata = Metadata(node.Metadata, keepAnnotations: false, strings),
            Spec = node.Spec is null ? null : new V1NodeSpec
            {
                Taints = strings is null ? node.Spec.Taints : node.Spec.Taints?.Select(taint => new V1Taint
                {
                    Key = strings.Intern(taint.Key),
                    Value = strings.Intern(taint.Value),
                    Effect = strings.Intern(taint.Effect),
                    TimeAdded = taint.TimeAdded,
                }).ToList(),
                Unschedulable = node.Spec.Unschedulable,
            },
            Status = status is null ? null : new V1NodeStatus
            {
                Conditions = status.Conditions?.Where(condition => condition.Type == "Ready").Select(condition => strings is null ? condition : new V1NodeCondition
                {
                    Type = strings.Intern(condition.Type),
                    Status = strings.Intern(condition.Status),
                    Reason = strings.Intern(condition.Reason),
                    Message = strings.Intern(condition.Message),
                    LastHeartbeatTime = condition.LastHeartbeatTime,
                    LastTransitionTime = condition.LastTransitionTime,
                }).ToList(),
                Images = status.Images?.Select(image => new V1ContainerImage { Names = strings is null ? image.Names : strings.Intern(image.Names) }).ToList(),
                NodeInfo = status.NodeInfo is null ? null : new V1NodeSystemInfo
                {
                    OperatingSystem = Intern(strings, status.NodeInfo.OperatingSystem),
                    Architecture = Intern(strings, status.NodeInfo.Architecture),
                },
            },
        };
    }

    public static V1Job Job(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var spec = job.Spec;
        var status = job.Status;
        return new V1Job
        {
            ApiVersion = job.ApiVersion,
            Kind = job.Kind,
            Metadata = Metadata(job.Metadata),
            Spec = spec is null ? null : new V1JobSpec
            {
                ActiveDeadlineSeconds = spec.ActiveDeadlineSeconds,
                BackoffLimit = spec.BackoffLimit,
                TtlSecondsAfterFinished = spec.TtlSecondsAfterFinished,
                Template = PodTemplate(spec.Template),
            },
            Status = status is null ? null : new V1JobStatus
            {
                Active = status.Active,
                Succeeded = status.Succeeded,
                Failed = status.Failed,
                StartTime = status.StartTime,
                CompletionTime = status.CompletionTime,
                Conditions = status.Conditions,
            },
        };
    }

    public static V1Pod Pod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var spec = pod.Spec;
        var status = pod.Status;
        return new V1Pod
        {
            ApiVersion = pod.ApiVersion,
            Kind = pod.Kind,
            Metadata = Metadata(pod.Metadata),
            Spec = spec is null ? null : new V1PodSpec
            {
                NodeName = spec.NodeName,
                Containers = Containers(spec.Containers) ?? [],
                InitContainers = Containers(spec.InitContainers),
            },
            Status = status is null ? null : new V1PodStatus
            {
                Phase = status.Phase,
                Reason = status.Reason,
                Message = status.Message,
                StartTime = status.StartTime,
                Conditions = status.Conditions,
                ContainerStatuses = ContainerStatuses(status.ContainerStatuses),
                InitContainerStatuses = ContainerStatuses(status.InitContainerStatuses),
            },
        };
    }

    public static V1ServiceAccount ServiceAccount(V1ServiceAccount serviceAccount)
    {
        ArgumentNullException.ThrowIfNull(serviceAccount);
        var metadata = serviceAccount.Metadata;
        return new V1ServiceAccount
        {
            ApiVersion = serviceAccount.ApiVersion,
            Kind = serviceAccount.Kind,
            Metadata = metadata is null ? null : new V1ObjectMeta
            {
                Name = metadata.Name,
                NamespaceProperty = metadata.NamespaceProperty,
                Uid = metadata.Uid,
                ResourceVersion = metadata.ResourceVersion,
            },
            ImagePullSecrets = serviceAccount.ImagePullSecrets,
        };
    }

    public static V1Namespace Namespace(V1Namespace @namespace)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        var metadata = @namespace.Metadata;
        return new V1Namespace
        {
            ApiVersion = @namespace.ApiVersion,
            Kind = @namespace.Kind,
            Metadata = metadata is null ? null : new V1ObjectMeta
            {
                Name = metadata.Name,
                Uid = metadata.Uid,
                ResourceVersion = metadata.ResourceVersion,
                Labels = metadata.Labels,
                DeletionTimestamp = metadata.DeletionTimestamp,
            },
            Status = @namespace.Status is null ? null : new V1NamespaceStatus { Phase = @namespace.Status.Phase },
        };
    }

    public static PrePullPolicy PrePullPolicy(PrePullPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy with { Metadata = Metadata(policy.Metadata) ?? new V1ObjectMeta() };
    }

    public static PrePullImage PrePullImage(PrePullImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image with { Metadata = Metadata(image.Metadata) ?? new V1ObjectMeta() };
    }

    private static string? Intern(CachedStrings? strings, string? value) => strings is null ? value : strings.Intern(value);

    private static IDictionary<string, string>? Intern(CachedStrings? strings, IDictionary<string, string>? map) => strings is null ? map : strings.Intern(map);

    private static V1LabelSelector? Selector(V1LabelSelector? selector, CachedStrings? strings) =>
        strings is null || selector is null ? selector : new V1LabelSelector
        {
            MatchLabels = strings.Intern(selector.MatchLabels),
            MatchExpressions = selector.MatchExpressions,
        };

    private static V1ObjectMeta? Metadata(V1ObjectMeta? metadata, bool keepAnnotations = true, CachedStrings? strings = null)
    {
        if (metadata is null)
        {
            return null;
        }

        IDictionary<string, string>? annotations = null;
        if (keepAnnotations && metadata.Annotations is { Count: > 0 } all)
        {
            annotations = all.ContainsKey(LastAppliedAnnotation)
                ? all.Where(annotation => annotation.Key != LastAppliedAnnotation).ToDictionary(StringComparer.Ordinal)
                : all;
        }

        return new V1ObjectMeta
        {
            Name = metadata.Name,
            NamespaceProperty = Intern(strings, metadata.NamespaceProperty),
            Uid = metadata.Uid,
            ResourceVersion = metadata.ResourceVersion,
            Generation = metadata.Generation,
            CreationTimestamp = metadata.CreationTimestamp,
            DeletionTimestamp = metadata.DeletionTimestamp,
            Labels = Intern(strings, metadata.Labels),
            Annotations = Intern(strings, annotations),
            OwnerReferences = metadata.OwnerReferences,
            Finalizers = metadata.Finalizers,
        };
    }

    private static V1PodTemplateSpec? PodTemplate(V1PodTemplateSpec? template, CachedStrings? strings = null)
    {
        if (template is null)
        {
            return null;
        }

        var spec = template.Spec;
        var required = spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution;
        return new V1PodTemplateSpec
        {
            Metadata = template.Metadata is null ? null : new V1ObjectMeta { Labels = Intern(strings, template.Metadata.Labels) },
            Spec = spec is null ? null : new V1PodSpec
            {
                Containers = Containers(spec.Containers, strings) ?? [],
                InitContainers = Containers(spec.InitContainers, strings),
                NodeSelector = Intern(strings, spec.NodeSelector),
                NodeName = spec.NodeName,
                Affinity = required is null ? null : new V1Affinity
                {
                    NodeAffinity = new V1NodeAffinity { RequiredDuringSchedulingIgnoredDuringExecution = required },
                },
                Tolerations = spec.Tolerations,
                ImagePullSecrets = spec.ImagePullSecrets,
                ServiceAccountName = Intern(strings, spec.ServiceAccountName),
                HostNetwork = spec.HostNetwork,
            },
        };
    }

    private static List<V1Container>? Containers(IList<V1Container>? containers, CachedStrings? strings = null) =>
        containers?.Select(container => new V1Container
        {
            Name = Intern(strings, container.Name),
            Image = Intern(strings, container.Image),
            ImagePullPolicy = Intern(strings, container.ImagePullPolicy),
        }).ToList();

    private static List<V1ContainerStatus>? ContainerStatuses(IList<V1ContainerStatus>? statuses) =>
        statuses?.Select(status => new V1ContainerStatus
        {
            Name = status.Name,
            Image = status.Image,
            ImageID = status.ImageID,
            Ready = status.Ready,
            Started = status.Started,
            RestartCount = status.RestartCount,
            State = ContainerState(status.State),
            LastState = ContainerState(status.LastState),
        }).ToList();

    private static V1ContainerState? ContainerState(V1ContainerState? state) => state is null ? null : new V1ContainerState
    {
        Waiting = state.Waiting is null ? null : new V1ContainerStateWaiting { Reason = state.Waiting.Reason, Message = state.Waiting.Message },
        Running = state.Running is null ? null : new V1ContainerStateRunning { StartedAt = state.Running.StartedAt },
        Terminated = state.Terminated is null ? null : new V1ContainerStateTerminated
        {
            ExitCode = state.Terminated.ExitCode,
            Reason = state.Terminated.Reason,
            Message = state.Terminated.Message,
            StartedAt = state.Terminated.StartedAt,
            FinishedAt = state.Terminated.FinishedAt,
        },
    };
}
