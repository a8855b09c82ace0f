using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>RFC 7386 JSON Merge Patch.</summary>
public static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Apply(result[key]?.DeepClone(), value);
            }
        }

        return result;
    }
}
