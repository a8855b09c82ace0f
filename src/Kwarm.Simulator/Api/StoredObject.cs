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
        Ready = type.StorageKey == "pods" && node.Objects("status", "conditions").Any(c => c.Str("type") == "Ready" && c.Str("status") == "True");
    }

    /// <summary>For pods: the Ready condition is True (kept so controllers count readiness without parsing).</summary>
    public bool Ready { get; }

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
        return new StoredObject(type, JsonSerializer.SerializeToUtf8Bytes(canonical, ApiServer.Output), canonical);
    }

    /// <summary>
    /// The JSON of a list item, which for built-in types carries no kind/apiVersion. The stored JSON starts with
    /// exactly those two members (see <see cref="JsonPaths.Canonical"/>), so they are cut off without a parse.
    /// </summary>
    public ReadOnlyMemory<byte> ListItemJson()
    {
        var prefix = System.Text.Encoding.UTF8.GetBytes(
            "{\"kind\":" + JsonSerializer.Serialize(Type.Kind, ApiServer.Output) + ",\"apiVersion\":" + JsonSerializer.Serialize(ToApiVersion(), ApiServer.Output) + ",");
        if (Json.AsSpan().StartsWith(prefix))
        {
            var item = new byte[Json.Length - prefix.Length + 1];
            item[0] = (byte)'{';
            Json.AsSpan(prefix.Length).CopyTo(item.AsSpan(1));
            return item;
        }

        var node = ToNode();
        node.Remove("kind");
        node.Remove("apiVersion");
        return JsonSerializer.SerializeToUtf8Bytes(node, ApiServer.Output);
    }

    private string ToApiVersion()
    {
        var reader = new Utf8JsonReader(Json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("apiVersion"u8))
            {
                reader.Read();
                return reader.GetString() ?? Type.ApiVersion;
            }

            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1)
            {
                reader.Skip();
            }
        }

        return Type.ApiVersion;
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
