namespace Kwarm.Simulator.Nodes;

/// <summary>
/// The life of one pod as the simulator saw it, for benchmarks that time rollouts: e.g. per node of a DaemonSet update,
/// how long the node ran without its daemon (the old pod's <see cref="DeletionRequestedAt"/> to the new pod's
/// <see cref="ReadyAt"/>). Times come from the simulator's <see cref="Hosting.SimulatorOptions.Time"/>; a time not reached
/// yet is null.
/// </summary>
/// <param name="Node">The node it was bound to (null while unscheduled).</param>
/// <param name="OwnerUid">Its controller's uid (a ReplicaSet, StatefulSet, DaemonSet or Job), or null.</param>
/// <param name="Revision">Its <c>controller-revision-hash</c> or <c>pod-template-hash</c> label, or null.</param>
/// <param name="ReadyAt">When its Ready condition first became True.</param>
/// <param name="DeletionRequestedAt">When it got its <c>deletionTimestamp</c> (or, deleted at once, when it went).</param>
/// <param name="GoneAt">When it left the store.</param>
public sealed record PodLifecycle(
    string Namespace,
    string Name,
    string Uid,
    string? Node,
    string? OwnerUid,
    string? Revision,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ReadyAt,
    DateTimeOffset? DeletionRequestedAt,
    DateTimeOffset? GoneAt);
