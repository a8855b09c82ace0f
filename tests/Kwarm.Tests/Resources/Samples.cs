using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>The manifests of <c>deploy/samples</c>, and the typed round trip every test uses.</summary>
internal static class Samples
{
    public const string BasicPolicy = "prepullpolicy-basic.yaml";
    public const string FullPolicy = "prepullpolicy-full.yaml";
    public const string ManualImage = "prepullimage-manual.yaml";
    public const string Deployment = "deployment-example.yaml";
    public const string StatefulSet = "statefulset-example.yaml";
    public const string DaemonSet = "daemonset-example.yaml";

    /// <summary>Every manifest file of the samples directory except the kustomization itself.</summary>
    public static IReadOnlyList<string> ManifestFileNames =>
        Directory.GetFiles(RepositoryFiles.SamplesDirectory, "*.yaml")
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name != "kustomization.yaml")
            .Order(StringComparer.Ordinal)
            .ToList();

    public static JsonNode Read(string fileName) => YamlJson.ReadFile(RepositoryFiles.Sample(fileName));

    /// <summary>JSON tree → the C# type for its kind (via <see cref="KubernetesJson"/>) → JSON tree.</summary>
    public static JsonNode RoundTrip(JsonNode manifest) => manifest["kind"]?.GetValue<string>() switch
    {
        PrePullPolicy.KubeKind => RoundTrip<PrePullPolicy>(manifest),
        PrePullImage.KubeKind => RoundTrip<PrePullImage>(manifest),
        V1Deployment.KubeKind => RoundTrip<V1Deployment>(manifest),
        V1StatefulSet.KubeKind => RoundTrip<V1StatefulSet>(manifest),
        V1DaemonSet.KubeKind => RoundTrip<V1DaemonSet>(manifest),
        var kind => throw new InvalidDataException($"No C# type for kind {kind}"),
    };

    public static JsonNode RoundTrip<T>(JsonNode manifest) => JsonNode.Parse(KubernetesJson.Serialize(ToTyped<T>(manifest)))!;

    public static T ToTyped<T>(JsonNode manifest) =>
        KubernetesJson.Deserialize<T>(manifest.ToJsonString()) ?? throw new InvalidDataException("The manifest deserialised to null");

    public static JsonNode ToJson<T>(T value) => JsonNode.Parse(KubernetesJson.Serialize(value))!;
}
