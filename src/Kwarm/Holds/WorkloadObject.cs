using k8s;
using k8s.Models;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>
/// A Deployment, StatefulSet or DaemonSet as the hold controller reads it from its cache: the kind, the metadata, the pod
/// template, and the kind's own answers to the controller's questions (is the hold's spec change in place, is an update
/// rolling out, is the strategy the user's OnDelete). The typed object stays reachable for the kind's release patch.
/// </summary>
public sealed record WorkloadObject
{
    private WorkloadObject(WorkloadKind kind, IKubernetesObject<V1ObjectMeta> source, V1PodSpec? podSpec)
    {
        Kind = kind;
        Source = source;
        PodSpec = podSpec;
    }

    public WorkloadKind Kind { get; }

    /// <summary>The cached <see cref="V1Deployment"/>, <see cref="V1StatefulSet"/> or <see cref="V1DaemonSet"/>.</summary>
    public IKubernetesObject<V1ObjectMeta> Source { get; }

    public V1ObjectMeta Metadata => Source.Metadata;

    /// <summary>The pod template's spec; null when the object has none.</summary>
    public V1PodSpec? PodSpec { get; }

    /// <summary>The hold controller's work-queue key (<see cref="WorkloadKeys"/>).</summary>
    public string Key => WorkloadKeys.For(Kind, Metadata.NamespaceProperty, Metadata.Name);

    public static WorkloadObject Of(V1Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return new(WorkloadKind.Deployment, deployment, deployment.Spec?.Template?.Spec);
    }

    public static WorkloadObject Of(V1StatefulSet statefulSet)
    {
        ArgumentNullException.ThrowIfNull(statefulSet);
        return new(WorkloadKind.StatefulSet, statefulSet, statefulSet.Spec?.Template?.Spec);
    }

    public static WorkloadObject Of(V1DaemonSet daemonSet)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        return new(WorkloadKind.DaemonSet, daemonSet, daemonSet.Spec?.Template?.Spec);
    }

    public string? StrategyType => Source switch
    {
        V1StatefulSet statefulSet => statefulSet.Spec?.UpdateStrategy?.Type,
        V1DaemonSet daemonSet => daemonSet.Spec?.UpdateStrategy?.Type,
        _ => null,
    };

    /// <summary>A StatefulSet's <c>spec.updateStrategy.rollingUpdate.partition</c>.</summary>
    public int? Partition => (Source as V1StatefulSet)?.Spec?.UpdateStrategy?.RollingUpdate?.Partition;

    /// <summary>The hold's spec change is in place: paused, partition 2147483647 (RollingUpdate), or OnDelete.</summary>
    public bool HoldEngaged => Source switch
    {
        V1Deployment deployment => deployment.Spec?.Paused == true,
        V1StatefulSet => HoldMechanics.IsHeldPartition(StrategyType, Partition),
        _ => StrategyType == HoldMechanics.OnDelete,
    };

    /// <summary>
    /// The user rolls out by hand with OnDelete: pre-pulled without a hold. A DaemonSet's OnDelete under a Kwarm hold is the
    /// hold's, not the user's.
    /// </summary>
    public bool UsesOwnOnDelete => Kind != WorkloadKind.Deployment && StrategyType == HoldMechanics.OnDelete
        && (Kind == WorkloadKind.StatefulSet || Metadata.Annotations?.ContainsKey(KwarmApi.HoldAnnotation) != true);

    /// <summary>
    /// Pods of an older template still run next to the current one's: an image change is rolling out (or, with OnDelete,
    /// waiting for the user's deletions). A new workload or a scale-up only has pods of the current template, so neither counts.
    /// </summary>
    public bool IsUpdateRolloutInProgress => Source switch
    {
        V1Deployment { Status: { } status } => (status.UpdatedReplicas ?? 0) < (status.Replicas ?? 0),
        V1StatefulSet { Status: { } status } => (status.UpdatedReplicas ?? 0) < status.Replicas,
        V1DaemonSet { Status: { } status } => (status.UpdatedNumberScheduled ?? 0) < status.CurrentNumberScheduled,
        _ => false,
    };

    /// <summary>What the release must not touch on a Deployment: a person's wish to stay paused (<c>kwarm.io/keep-paused</c>).</summary>
    public bool KeepsPaused => Source is V1Deployment deployment && HoldReleasePatch.KeepsPaused(deployment);
}
