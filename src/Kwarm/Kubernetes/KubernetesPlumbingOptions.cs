namespace Kwarm.Kubernetes;

/// <summary>Tuning of the Kubernetes plumbing; the defaults are the production values.</summary>
public sealed class KubernetesPlumbingOptions
{
    /// <summary>Applied to every informer (selectors aside).</summary>
    public ResourceInformerOptions Informers { get; set; } = new();

    /// <summary>Label selector of the Jobs and Pods that Kwarm watches: only its own.</summary>
    public string ManagedObjectsSelector { get; set; } = ManagedObjects.Selector;

    public LeaderElectionOptions LeaderElection { get; set; } = new();

    public ApiWriteOptions ApiWrites { get; set; } = new();

    /// <summary>Where the container's cgroup is mounted, read once at start by <see cref="CacheMemoryCheck"/>.</summary>
    public string CgroupRoot { get; set; } = CgroupMemoryLimit.DefaultRoot;
}
