using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Warmup;

/// <summary>
/// Decides a warm-up pass (DESIGN §10, issue #17). Pure: the same world gives the same plan.
/// <list type="bullet">
/// <item>A warming node is one carrying <c>kwarm.io/warming</c> with effect NoSchedule. The policies that apply to it
/// have <c>nodeWarmup.enabled</c> and a node selector that selects it.</item>
/// <item>It needs, for each such policy, the current pod-template images of the workloads that policy wins for
/// (<see cref="PolicyMatcher"/>: a workload outranked by an older policy follows that one's setting) whose pods could run
/// on it as if the warming taint were absent (<see cref="WarmupWorkload.CouldRunOn"/>), plus the policy's extra
/// images; canonical references, each once per namespace.</item>
/// <item>One PrePullImage per (namespace, image, node), named from the image and the node, naming that node; labelled
/// <c>kwarm.io/warmup</c> (its pulls go first) and owned by nobody (the warm-up deletes it once its node is no longer
/// warming). Per node rather than one shared by the nodes warming at once: a PrePullImage's spec then never changes,
/// so Kwarm needs no right to update PrePullImages (the only right the warm-up adds is <c>patch</c> on nodes). It pulls with the union of its workloads' pull secrets and tolerations plus the warming
/// taint's; the policy settings (resources, retry, timeout, PriorityClass) are those of the oldest policy involved.
/// An extra image is pulled in Kwarm's namespace without secrets and tolerates every taint: it is for the node
/// itself, whatever else the node carries.</item>
/// <item>A node's PrePullImage is created only once the node can take its pull (<see cref="NodeEligibility"/>: Ready, its
/// other taints tolerated). A joining node is NotReady and carries <c>node.kubernetes.io/not-ready</c> for a while
/// (the API server adds it at creation); a PrePullImage created then would finish at once without pulling on it. One
/// that did finish that way (created before a restart, or the node went NotReady again) is deleted and created anew
/// once the node can pull (<see cref="WarmupPlan.Stale"/>). Meanwhile the node waits, within its deadline.</item>
/// <item>A node is done with an image when its <c>status.images</c> lists it or the PrePullImage's entry for it is
/// <c>Completed</c> or <c>Skipped</c>; it failed when the entry is <c>Failed</c> (retries exhausted). The taint is
/// lifted when nothing applies or nothing is needed (<see cref="WarmupOutcome.NotNeeded"/>), at the deadline
/// (<see cref="WarmupOutcome.Timeout"/>, checked first), when every image is there (<see cref="WarmupOutcome.Warm"/>)
/// or when every image is there or failed (<see cref="WarmupOutcome.Failed"/>).</item>
/// </list>
/// </summary>
public static class WarmupPlanner
{
    private static readonly V1Toleration EveryTaint = new() { OperatorProperty = "Exists" };

    public static WarmupPlan Plan(WarmupWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        var enabled = world.Policies
            .Where(policy => policy.Metadata?.DeletionTimestamp is null && policy.Spec?.EffectiveNodeWarmup.EffectiveEnabled == true)
            .Order(PolicyPrecedence.Instance)
            .ToList();
        var enabledNames = enabled.Select(policy => policy.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var warmed = enabled.Count == 0 ? [] : world.Workloads
            .Select(workload => (Workload: workload, Policy: PolicyMatcher.Select(world.Policies, workload.Kind, workload.Namespace, workload.Labels)))
            .Where(pair => pair.Policy is not null && enabledNames.Contains(pair.Policy.Metadata.Name))
            .Select(pair => (pair.Workload, Policy: pair.Policy!))
            .OrderBy(pair => pair.Workload.Namespace, StringComparer.Ordinal)
            .ThenBy(pair => pair.Workload.Kind)
            .ThenBy(pair => pair.Workload.Name, StringComparer.Ordinal)
            .ToList();

        var needs = new Dictionary<(string Namespace, string Image, string Node), Need>();
        var perNode = new List<(V1Node Node, DateTimeOffset CreatedAt, DateTimeOffset Deadline, List<(string Namespace, string Image)> Images)>();
        foreach (var node in world.Nodes.Where(WarmingTaint.IsOn).OrderBy(node => node.Metadata?.Name, StringComparer.Ordinal))
        {
            var name = node.Metadata?.Name ?? "";
            var createdAt = node.Metadata?.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : world.Now;
            var applicable = enabled.Where(policy => policy.Spec!.SelectsNode(node.Metadata?.Labels)).ToList();
            var images = new List<(string, string)>();
            if (applicable.Count > 0)
            {
                var applicableNames = applicable.Select(policy => policy.Metadata.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var (workload, policy) in warmed.Where(pair => applicableNames.Contains(pair.Policy.Metadata.Name) && pair.Workload.CouldRunOn(node, pair.Policy.Spec!)))
                {
                    foreach (var image in PodTemplateImages.Of(workload.PodSpec).Images)
                    {
                        Add(needs, images, (workload.Namespace, ImageIdentity.CanonicalOrSelf(image)), name).Workloads.Add((workload, policy));
                    }
                }

                foreach (var policy in applicable)
                {
                    foreach (var image in policy.Spec!.EffectiveNodeWarmup.EffectiveImages)
                    {
                        Add(needs, images, (world.KwarmNamespace, ImageIdentity.CanonicalOrSelf(image)), name).ExtraOf.Add(policy);
                    }
                }
            }

            var longest = applicable.Count == 0 ? TimeSpan.Zero : applicable.Max(policy => policy.Spec!.EffectiveNodeWarmup.EffectiveMaxDuration);
            perNode.Add((node, createdAt, createdAt + longest, images));
        }

        var existing = world.WarmupImages
            .GroupBy(image => (image.Metadata.NamespaceProperty ?? "", image.Metadata.Name))
            .ToDictionary(group => group.Key, group => group.First());
        var nodesByName = perNode.ToDictionary(entry => entry.Node.Metadata?.Name ?? "", entry => entry.Node, StringComparer.Ordinal);
        var desired = new List<PrePullImage>();
        var stale = new List<PrePullImage>();
        foreach (var ((ns, image, nodeName), need) in needs)
        {
            var wanted = Build(ns, image, nodeName, need, world.ServiceAccount);
            var node = nodesByName[nodeName];
            var canPull = NodeEligibility.Judge(wanted.Spec, node) == NodeVerdict.Target;
            if (existing.GetValueOrDefault((ns, wanted.Metadata.Name)) is { } found)
            {
                desired.Add(wanted);
                if (canPull && FinishedWithout(found, nodeName))
                {
                    stale.Add(found);
                }
            }
            else if (canPull)
            {
                desired.Add(wanted);
            }
        }

        var verdicts = perNode.Select(entry => Judge(entry.Node, entry.CreatedAt, entry.Deadline, entry.Images, existing, world.Now)).ToList();
        return new WarmupPlan(desired, verdicts, stale);
    }

    /// <summary>A PrePullImage the pull engine finished without an entry for the node it names: the node was not a target then.</summary>
    private static bool FinishedWithout(PrePullImage image, string node) =>
        image.Metadata.DeletionTimestamp is null
        && image.Status?.Phase is PrePullImagePhase.Completed or PrePullImagePhase.Failed
        && image.Status.Nodes?.Any(entry => entry.Node == node) != true;

    private static Need Add(Dictionary<(string, string, string), Need> needs, List<(string, string)> nodeImages, (string Namespace, string Image) key, string node)
    {
        if (!needs.TryGetValue((key.Namespace, key.Image, node), out var need))
        {
            need = new Need();
            needs[(key.Namespace, key.Image, node)] = need;
        }

        if (!nodeImages.Contains(key))
        {
            nodeImages.Add(key);
        }

        return need;
    }

    private static NodeWarmupVerdict Judge(
        V1Node node,
        DateTimeOffset createdAt,
        DateTimeOffset deadline,
        List<(string Namespace, string Image)> images,
        Dictionary<(string, string), PrePullImage> existing,
        DateTimeOffset now)
    {
        var references = images.Select(image => image.Image).Distinct(StringComparer.Ordinal).ToList();
        if (images.Count == 0)
        {
            return new NodeWarmupVerdict(node, createdAt, deadline, references, WarmupOutcome.NotNeeded, [], 0);
        }

        var name = node.Metadata?.Name ?? "";
        var failures = new List<ImageFailure>();
        var pending = 0;
        foreach (var (ns, image) in images)
        {
            if (IsOnNode(node, image))
            {
                continue;
            }

            var entry = existing.GetValueOrDefault((ns, WarmupNames.PrePullImage(image, name)))?.Status?.Nodes?.FirstOrDefault(n => n.Node == name);
            switch (entry?.Status)
            {
                case NodePullState.Completed or NodePullState.Skipped:
                    break;
                case NodePullState.Failed:
                    failures.Add(new ImageFailure(image, entry.Error ?? "the pull failed"));
                    break;
                default:
                    pending++;
                    break;
            }
        }

        WarmupOutcome? outcome = now >= deadline ? WarmupOutcome.Timeout
            : pending > 0 ? null
            : failures.Count == 0 ? WarmupOutcome.Warm
            : WarmupOutcome.Failed;
        return new NodeWarmupVerdict(node, createdAt, deadline, references, outcome, failures, pending);
    }

    /// <summary>Whether the node's <c>status.images</c> lists the image by its tag or digest reference (DESIGN §10). The list is capped, so absence proves nothing.</summary>
    private static bool IsOnNode(V1Node node, string image) =>
        ImageIdentity.TryParse(image, out var identity, out _)
        && (node.Status?.Images ?? []).Any(listed => listed.Names is { } names && identity.IsListedIn(names));

    private static PrePullImage Build(string ns, string image, string node, Need need, Func<string, string, V1ServiceAccount?> serviceAccount)
    {
        var policy = need.Workloads.Select(pair => pair.Policy).Concat(need.ExtraOf).Order(PolicyPrecedence.Instance).First().Spec!;
        var extra = need.ExtraOf.Count > 0;
        var tolerations = extra
            ? [EveryTaint]
            : new[] { WarmingTaint.Toleration }.Concat(need.Workloads.SelectMany(pair => pair.Workload.Tolerations))
                .DistinctBy(toleration => (toleration.Key, toleration.OperatorProperty, toleration.Value, toleration.Effect, toleration.TolerationSeconds))
                .ToList();
        var secrets = need.Workloads
            .SelectMany(pair => PodPullSettings.PullSecrets(pair.Policy.Spec!, pair.Workload.PodSpec, serviceAccount(pair.Workload.Namespace, ServiceAccountOf(pair.Workload))))
            .DistinctBy(secret => secret.Name, StringComparer.Ordinal)
            .ToList();
        var pullPolicies = need.Workloads.Select(pair => PodPullSettings.PullPolicy(pair.Workload.PodSpec, image)).OfType<ImagePullPolicy>().ToList();
        return new PrePullImage
        {
            Metadata = new V1ObjectMeta
            {
                Name = WarmupNames.PrePullImage(image, node),
                NamespaceProperty = ns,
                Labels = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [KwarmApi.WarmupLabel] = "true",
                    [ManagedObjects.Label] = ManagedObjects.Value,
                },
            },
            Spec = new PrePullImageSpec
            {
                Image = image,
                Nodes = new NodeTargets { Names = [node] },
                Tolerations = [.. tolerations],
                ImagePullSecrets = secrets.Count > 0 ? secrets : null,
                Resources = policy.EffectiveResources,
                Retry = policy.EffectiveRetry,
                Timeout = GoDuration.Format(policy.EffectiveTimeout),
                PriorityClassName = policy.EffectivePriorityClassName,
                ImagePullPolicy = pullPolicies.Contains(ImagePullPolicy.Always) ? ImagePullPolicy.Always : pullPolicies.Count > 0 ? pullPolicies[0] : null,
            },
        };
    }

    private static string ServiceAccountOf(WarmupWorkload workload) =>
        workload.PodSpec.ServiceAccountName is { Length: > 0 } name ? name : "default";

    /// <summary>What one (namespace, image, node) is wanted for: the workloads (with their policy) and the policies listing it as extra.</summary>
    private sealed class Need
    {
        public List<(WarmupWorkload Workload, PrePullPolicy Policy)> Workloads { get; } = [];

        public List<PrePullPolicy> ExtraOf { get; } = [];
    }
}
