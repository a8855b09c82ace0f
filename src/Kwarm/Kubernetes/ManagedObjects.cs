namespace Kwarm.Kubernetes;

/// <summary>
/// The label on every object Kwarm creates for itself (pull Jobs and, through their pod template, pull Pods).
/// The Job and Pod informers watch only objects carrying it, so Kwarm never caches the cluster's own workloads.
/// </summary>
public static class ManagedObjects
{
    public const string Label = "app.kubernetes.io/managed-by";
    public const string Value = "kwarm";
    public const string Selector = Label + "=" + Value;
}
