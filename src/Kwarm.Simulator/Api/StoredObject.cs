using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>
/// An immutable committed version of one object. The JSON is kept serialised so that lists and watches write it
/// without copying, and every reader gets its own mutable tree from <see cref="ToNode"/>.
/// </summary>
public sealed class StoredObject
{
    private StoredObject(ResourceType type, byte[] json, JsonObject node)
    {
        Type = type;
        Json = json;
        var metadata = node["metadata"] as JsonObject;
        Namespace = metadata.Str("namespace") ?? "";
        Name = metadata.Str("name") ?? "";
        Uid = metadata.Str("uid") ?? "";
        ResourceVersion = metadata.Long("resourceVersion") ?? 0;
        Labels = metadata.StringMap("labels");
        NodeName = node.Str("spec", "nodeName");
        Phase = node.Str("status", "phase");
        Finalizers = metadata?["finalizers"] is JsonArray finalizers ? [.. finalizers.Select(f => f?.ToString() ?? "")] : [];
        Deleting = metadata.Str("deletionTimestamp") is not null;
        Owners = [.. node.Objects("metadata", "ownerReferences").Select(o => o.Str("uid") ?? "").Where(u => u.Length > 0)];
    }

    public ResourceType Type { get; }

    public byte[] Json { get; }

    public string Namespace { get; }

    public string Name { get; }

    public string Key => Namespace.Length == 0 ? Name : $"{Namespace}/{Name}";

    public string Uid { get; }

    public long ResourceVersion { get; }

    public IReadOnlyDictionary<string, string> Labels { get; }

    public string? NodeName { get; }

    public string? Phase { get; }

    public IReadOnlyList<string> Finalizers { get; }

    public bool Deleting { get; }

    public IReadOnlyList<string> Owners { get; }

    public static StoredObject From(ResourceType type, JsonObject node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var canonical = JsonPaths.Canonical(node);
        return new StoredObject(type, JsonSerializer.SerializeToUtf8Bytes(canonical), canonical);
    }

    public JsonObject ToNode() => JsonNode.Parse(Json)!.AsObject();

    /// <summary>The value of a supported field selector key, or null when the field is not indexed.</summary>
    public string? Field(string field) => field switch
    {
        "metadata.name" => Name,
        "metadata.namespace" => Namespace,
        "spec.nodeName" => NodeName ?? "",
        "status.phase" => Phase ?? "",
        _ => null,
    };
}
