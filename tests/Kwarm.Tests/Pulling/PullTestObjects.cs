using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Pulling;

/// <summary>Hand-made API objects for the pull engine's tests.</summary>
internal static class PullTestObjects
{
    public static readonly DateTime Epoch = new(2026, 11, 26, 10, 0, 0, DateTimeKind.Utc);

    public static V1Node Node(
        string name,
        bool ready = true,
        IDictionary<string, string>? labels = null,
        IList<V1Taint>? taints = null,
        bool unschedulable = false,
        IList<string>? images = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = "uid-" + name, ResourceVersion = "1", Labels = labels ?? new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" } },
        Spec = new V1NodeSpec { Taints = taints, Unschedulable = unschedulable ? true : null },
        Status = new V1NodeStatus
        {
            Conditions = [new V1NodeCondition { Type = "Ready", Status = ready ? "True" : "False" }],
            Images = images?.Select(image => new V1ContainerImage { Names = [image] }).ToList(),
        },
    };

    public static PrePullImage Image(string ns, string name, PrePullImageSpec spec, DateTime? created = null, string? uid = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Uid = uid ?? $"uid-{ns}-{name}",
            ResourceVersion = "1",
            Generation = 1,
            CreationTimestamp = created ?? Epoch,
        },
        Spec = spec,
    };
}
