using k8s.Models;

namespace Kwarm.Kubernetes;

/// <summary>
/// A core/v1 Event as Kwarm records them, on a workload (holds) or a Node (warm-up): source and reporting controller
/// <c>kwarm</c>, the replica's identity as reporting instance, counted once. The name is the caller's and deterministic,
/// so recording the same fact twice is refused with 409 instead of duplicated.
/// </summary>
public static class KwarmEvent
{
    public const string Component = "kwarm";

    /// <summary>Longer messages are cut here (with an ellipsis): the API server refuses an Event message over 1 KiB.</summary>
    public const int MaxMessageLength = 1024;

    public static Corev1Event Create(
        string name, string namespaceName, V1ObjectReference involvedObject, string reason, string type, string message, DateTime now, string instance)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = namespaceName },
            InvolvedObject = involvedObject,
            Reason = reason,
            Message = message.Length > MaxMessageLength ? message[..(MaxMessageLength - 3)] + "..." : message,
            Type = type,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = Component,
            ReportingInstance = instance,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
    }
}
