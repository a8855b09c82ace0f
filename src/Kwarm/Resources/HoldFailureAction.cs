using System.Text.Json.Serialization;
using k8s;

namespace Kwarm.Resources;

[JsonConverter(typeof(JsonStringEnumConverter<HoldFailureAction>))]
public enum HoldFailureAction
{
    /// <summary>Release when every node is done, even if some failed.</summary>
    Release,

    /// <summary>Keep holding until <c>hold.maxDuration</c> when a node failed.</summary>
    Wait,
}
