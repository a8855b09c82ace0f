using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Benchmarks;

/// <summary>
/// The node agent the DaemonSet benchmark rolls: opted in to Kwarm by label, one small container, and no update strategy
/// of its own, so the API server defaults it to <c>RollingUpdate</c> with maxUnavailable 1 and maxSurge 0 (a node's old
/// pod goes before its new one starts).
/// </summary>
internal static class BenchmarkDaemonSet
{
    public const string Namespace = "default";
    public const string Name = "agent";
    private const string AppLabel = "app.kubernetes.io/name";

    public static V1DaemonSet Create(string image) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = Name,
            NamespaceProperty = Namespace,
            Labels = new Dictionary<string, string> { [AppLabel] = Name, [KwarmApi.EnabledLabel] = "true" },
        },
        Spec = new V1DaemonSetSpec
        {
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [AppLabel] = Name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { [AppLabel] = Name } },
                Spec = new V1PodSpec
                {
                    Containers =
                    [
                        new V1Container
                        {
                            Name = Name,
                            Image = image,
                            ImagePullPolicy = "IfNotPresent",
                            Resources = new V1ResourceRequirements
                            {
                                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("16Mi") },
                            },
                        },
                    ],
                },
            },
        },
    };

    /// <summary>What <c>kubectl set image daemonset/agent agent=IMAGE</c> sends.</summary>
    public static V1Patch ImagePatch(string image) => new(
        new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = Name, ["image"] = image }) },
                },
            },
        }.ToJsonString(),
        V1Patch.PatchType.StrategicMergePatch);

    public static async Task<V1DaemonSet> SetImageAsync(IKubernetes client, string image, CancellationToken cancellationToken) =>
        await client.AppsV1.PatchNamespacedDaemonSetAsync(ImagePatch(image), Name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Kwarm decides from its informer cache, so a policy applied a moment ago may not have reached it yet. A server-side
    /// dry run of the image change passes through the webhook and changes nothing: once it comes back as
    /// <c>OnDelete</c>, Kwarm holds.
    /// </summary>
    public static async Task WaitUntilKwarmHoldsAsync(IKubernetes client, string image, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var answer = await client.AppsV1.PatchNamespacedDaemonSetAsync(ImagePatch(image), Name, Namespace, dryRun: "All", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (answer.Spec.UpdateStrategy?.Type == "OnDelete")
            {
                return;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException("Kwarm did not hold a dry-run image change of the DaemonSet within 60 s");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
