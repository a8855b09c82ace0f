using System.Text.Json.Serialization;

namespace Kwarm.Runtime;

/// <summary>One line of a watch stream.</summary>
public sealed class WatchLine<TObject>
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("object")]
    public TObject? Resource { get; set; }
}
