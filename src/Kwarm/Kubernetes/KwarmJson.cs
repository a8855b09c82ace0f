using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using k8s;
using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Kubernetes;

/// <summary>
/// Kwarm's JSON: every type it reads from or writes to the API server, through source-generated metadata.
/// </summary>
/// <remarks>
/// The shipped Kwarm is compiled ahead of time (NativeAOT, a third of the memory of the JIT runtime), where
/// reflection-based System.Text.Json cannot build converters for value types it has not seen at compile time.
/// KubernetesClient's own <see cref="KubernetesJson"/> is reflection-based, so Kwarm reads and writes through this
/// context instead, with the same conventions as the client (camelCase, nulls left out, the client's date, time span and
/// Status converters) so the wire format is the client's byte for byte. <see cref="ServeKubernetesClient"/> puts the
/// context in front of the client's own resolver, for the objects the client's typed operations send and receive.
/// </remarks>
public static class KwarmJson
{
    /// <summary>The metadata for <typeparamref name="T"/>; fails at once, naming the type, when the context lacks it.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>() =>
        KwarmJsonContext.Default.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
        ?? throw new NotSupportedException($"{typeof(T)} is not in {nameof(KwarmJsonContext)}: add [JsonSerializable(typeof(...))] for it");

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, TypeInfo<T>());

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize(json, TypeInfo<T>());

    public static T? Deserialize<T>(JsonElement element) => element.Deserialize(TypeInfo<T>());

    /// <summary>Options resolving through this context only, for the runtime's list-watchers (<see cref="KubernetesListWatcher{T}"/>).</summary>
    public static JsonSerializerOptions Options => KwarmJsonContext.Default.Options;

    /// <summary>
    /// Makes KubernetesClient's typed operations (Job create, Deployment, StatefulSet and DaemonSet patches, Event create, Lease reads and writes, custom
    /// object writes) use this context first. The client's options are process-wide and frozen at their first use, so this
    /// runs once, first thing in the process's entry point.
    /// </summary>
    public static void ServeKubernetesClient() =>
        KubernetesJson.AddJsonOptions(options => options.TypeInfoResolverChain.Insert(0, KwarmJsonContext.Default));
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters =
    [
        typeof(KubernetesJson.Iso8601TimeSpanConverter),
        typeof(KubernetesJson.KubernetesDateTimeConverter),
        typeof(KubernetesJson.KubernetesDateTimeOffsetConverter),
        typeof(V1Status.V1StatusObjectViewConverter),
    ])]
// What the informers cache, and the LIST and watch envelopes around them.
[JsonSerializable(typeof(ResourceListBody))]
[JsonSerializable(typeof(V1Deployment))]
[JsonSerializable(typeof(WatchLine<V1Deployment>))]
[JsonSerializable(typeof(V1StatefulSet))]
[JsonSerializable(typeof(WatchLine<V1StatefulSet>))]
[JsonSerializable(typeof(V1DaemonSet))]
[JsonSerializable(typeof(WatchLine<V1DaemonSet>))]
[JsonSerializable(typeof(V1Node))]
[JsonSerializable(typeof(WatchLine<V1Node>))]
[JsonSerializable(typeof(V1Job))]
[JsonSerializable(typeof(WatchLine<V1Job>))]
[JsonSerializable(typeof(V1Pod))]
[JsonSerializable(typeof(WatchLine<V1Pod>))]
[JsonSerializable(typeof(V1ServiceAccount))]
[JsonSerializable(typeof(WatchLine<V1ServiceAccount>))]
[JsonSerializable(typeof(V1Namespace))]
[JsonSerializable(typeof(WatchLine<V1Namespace>))]
[JsonSerializable(typeof(PrePullPolicy))]
[JsonSerializable(typeof(WatchLine<PrePullPolicy>))]
[JsonSerializable(typeof(PrePullImage))]
[JsonSerializable(typeof(WatchLine<PrePullImage>))]
[JsonSerializable(typeof(V1Status))]
[JsonSerializable(typeof(WatchLine<V1Status>))]
// What Kwarm writes, and what the client's operations answer with.
[JsonSerializable(typeof(PolicyStatusPatch))]
[JsonSerializable(typeof(PrePullImageStatus))]
[JsonSerializable(typeof(NodePullStatus))]
[JsonSerializable(typeof(Corev1Event))]
[JsonSerializable(typeof(V1DeleteOptions))]
[JsonSerializable(typeof(V1Lease))]
[JsonSerializable(typeof(object))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class KwarmJsonContext : JsonSerializerContext;
