using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using k8s;
using k8s.Models;

namespace Kwarm.Runtime;

/// <summary>
/// JSON for the runtime's own envelopes (LIST bodies, error Status objects) through source-generated metadata, as
/// NativeAOT requires. The resource types themselves belong to the application, which lends its own context's options.
/// </summary>
public static class RuntimeJson
{
    /// <summary>The metadata for <typeparamref name="T"/> in <paramref name="options"/>; fails at once, naming the type, when it is missing.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.TypeInfoResolver?.GetTypeInfo(typeof(T), options) as JsonTypeInfo<T>
            ?? throw new NotSupportedException($"{typeof(T)} is not known to the JSON context given to the runtime: add [JsonSerializable(typeof(...))] for it");
    }
}

/// <summary>The same conventions as KubernetesClient's serializer (camelCase, nulls left out, its date, time span and Status converters).</summary>
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
[JsonSerializable(typeof(ResourceListBody))]
[JsonSerializable(typeof(V1Status))]
[JsonSerializable(typeof(WatchLine<V1Status>))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext;
