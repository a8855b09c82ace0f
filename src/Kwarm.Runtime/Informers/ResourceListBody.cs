using System.Text.Json;
using System.Text.Json.Serialization;
using k8s.Models;

namespace Kwarm.Runtime;

/// <summary>A LIST response: items are read one by one, so one object that does not fit its type is skipped, not fatal.</summary>
public sealed class ResourceListBody
{
    [JsonPropertyName("metadata")]
    public V1ListMeta? Metadata { get; set; }

    [JsonPropertyName("items")]
    public List<JsonElement>? Items { get; set; }
}
