using System.Text.Json.Serialization;
using k8s;

namespace Kwarm.Resources;

[JsonConverter(typeof(JsonStringEnumConverter<ImagePullPolicy>))]
public enum ImagePullPolicy
{
    Always,
    IfNotPresent,
    Never,
}
