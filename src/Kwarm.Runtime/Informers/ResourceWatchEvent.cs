using k8s;
using k8s.Models;

namespace Kwarm.Runtime;

/// <summary>
/// One line of a watch stream. <see cref="Resource"/> is set for ADDED, MODIFIED, DELETED and BOOKMARK
/// (a bookmark carries only <c>metadata.resourceVersion</c>); <see cref="Status"/> for ERROR.
/// </summary>
public sealed record ResourceWatchEvent<T>(WatchEventType Type, T? Resource, V1Status? Status);
