using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Benchmarks;

/// <summary>The Deployment both benchmarks roll: opted in to Kwarm by label, one small container, rolling-update defaults.</summary>
internal static class BenchmarkDeployment
{
    public const string Namespace = "default";
    public const string Name = "web";
    public const string AppLabel = "app.kubernetes.io/name";

    /// <param name="cpu">The container's CPU request: the scale-out benchmark sizes it so that a node holds a set number of pods.</param>
    public static V1Deployment Create(int replicas, string image, string cpu = "10m") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = Name,
            NamespaceProperty = Namespace,
            Labels = new Dictionary<string, string> { [AppLabel] = Name, [KwarmApi.EnabledLabel] = "true" },
        },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
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
                                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new("16Mi") },
                            },
                        },
                    ],
                },
            },
        },
    };

    /// <summary>What <c>kubectl set image deployment/web web=IMAGE</c> sends.</summary>
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

    /// <summary>The rollout to <paramref name="image"/> is done: unpaused, every replica updated and available, no old one left.</summary>
    public static bool RolloutComplete(DeploymentCommit? deployment, string image) =>
        deployment is not null
        && deployment.Image == image
        && !deployment.Paused
        && deployment.ObservedGeneration >= deployment.Generation
        && deployment.Updated == deployment.Replicas
        && deployment.Available == deployment.Replicas
        && deployment.StatusReplicas == deployment.Replicas;

    public static async Task SetImageAsync(IKubernetes client, string image, CancellationToken cancellationToken) =>
        await client.AppsV1.PatchNamespacedDeploymentAsync(ImagePatch(image), Name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
}
