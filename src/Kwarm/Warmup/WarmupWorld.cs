using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Warmup;

/// <summary>Everything one warm-up pass decides from, read from the informer caches.</summary>
/// <param name="WarmupImages">The PrePullImages labelled <c>kwarm.io/warmup</c> that exist.</param>
/// <param name="ServiceAccount">The service account of a namespace by name, or null.</param>
/// <param name="KwarmNamespace">Where a policy's extra images are pulled (Kwarm's own namespace).</param>
public sealed record WarmupWorld(
    IReadOnlyList<V1Node> Nodes,
    IReadOnlyList<PrePullPolicy> Policies,
    IReadOnlyList<WarmupWorkload> Workloads,
    IReadOnlyList<PrePullImage> WarmupImages,
    Func<string, string, V1ServiceAccount?> ServiceAccount,
    string KwarmNamespace,
    DateTimeOffset Now);
