using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>
/// Strategic merge patch for the built-in types the simulator serves: lists are merged by the merge keys the
/// Kubernetes types declare (containers by name, ports by containerPort, conditions by type, ...), lists without
/// a merge strategy are replaced, and the directives kubectl sends ($patch, $retainKeys, $setElementOrder,
/// $deleteFromPrimitiveList) are honoured.
/// </summary>
public static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["ports"] = "containerPort",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["conditions"] = "type",
        ["imagePullSecrets"] = "name",
        ["ownerReferences"] = "uid",
        ["hostAliases"] = "ip",
        ["addresses"] = "type",
        ["topologySpreadConstraints"] = "topologyKey",
        ["resourceClaims"] = "name",
        ["secrets"] = "name",
    };

    private static readonly HashSet<string> PrimitiveSets = new(StringComparer.Ordinal) { "finalizers" };

    public static JsonNode Apply(JsonNode target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            throw ApiException.BadRequest("the body of the request was not a strategic merge patch: expected a JSON object");
        }

        return MergeObject(target as JsonObject ?? [], patchObject);
    }

    private static JsonObject MergeObject(JsonObject target, JsonObject patch)
    {
        if (patch.Str("$patch") == "replace")
        {
            var replaced = (JsonObject)patch.DeepClone();
            replaced.Remove("$patch");
            return StripDirectives(replaced);
        }

        if (patch.Str("$patch") == "delete")
        {
            return [];
        }

        var result = (JsonObject)target.DeepClone();
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key is "$patch" or "$retainKeys")
            {
                continue;
            }

            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray list && value is JsonArray removals)
                {
                    var remove = removals.Select(r => r?.ToJsonString()).ToHashSet(StringComparer.Ordinal);
                    result[field] = new JsonArray([.. list.Where(i => !remove.Contains(i?.ToJsonString())).Select(i => i?.DeepClone())]);
                }

                continue;
            }

            if (value is null)
            {
                result.Remove(key);
            }
            else if (value is JsonObject childPatch)
            {
                var merged = MergeObject(result[key] as JsonObject ?? [], childPatch);
                result[key] = merged;
            }
            else if (value is JsonArray arrayPatch)
            {
                result[key] = MergeList(key, result[key] as JsonArray, arrayPatch);
            }
            else
            {
                result[key] = value.DeepClone();
            }
        }

        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(r => r?.ToString()).ToHashSet(StringComparer.Ordinal);
            foreach (var key in result.Select(p => p.Key).Where(k => !keep.Contains(k)).ToList())
            {
                result.Remove(key);
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) && value is JsonArray order)
            {
                var field = key["$setElementOrder/".Length..];
                if (result[field] is JsonArray list && MergeKeys.TryGetValue(field, out var orderKey))
                {
                    result[field] = NormalizeOrder(list, [.. order.Select(o => o?[orderKey])], target[field] as JsonArray, orderKey);
                }
            }
        }

        return result;
    }

    private static JsonArray MergeList(string field, JsonArray? target, JsonArray patch)
    {
        if (PrimitiveSets.Contains(field))
        {
            var merged = target is null ? new JsonArray() : (JsonArray)target.DeepClone();
            foreach (var item in patch)
            {
                if (!merged.Any(m => JsonNode.DeepEquals(m, item)))
                {
                    merged.Add(item?.DeepClone());
                }
            }

            return merged;
        }

        if (!MergeKeys.TryGetValue(field, out var mergeKey) || patch.Any(p => p is not JsonObject))
        {
            if (patch.OfType<JsonObject>().Any(p => p.Str("$patch") == "replace"))
            {
                return new JsonArray([.. patch.OfType<JsonObject>().Where(p => p.Str("$patch") != "replace").Select(p => StripDirectives((JsonObject)p.DeepClone()))]);
            }

            return new JsonArray([.. patch.Select(p => p is JsonObject o ? StripDirectives((JsonObject)o.DeepClone()) : p?.DeepClone())]);
        }

        if (patch.OfType<JsonObject>().Any(p => p.Str("$patch") == "replace"))
        {
            return new JsonArray([.. patch.OfType<JsonObject>().Where(p => p.Str("$patch") != "replace").Select(p => StripDirectives((JsonObject)p.DeepClone()))]);
        }

        var result = target is null ? new JsonArray() : (JsonArray)target.DeepClone();
        foreach (var item in patch.OfType<JsonObject>())
        {
            var keyValue = item[mergeKey];
            var index = IndexOf(result, mergeKey, keyValue);
            if (item.Str("$patch") == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                result[index] = MergeObject((JsonObject)result[index]!, item);
            }
            else
            {
                result.Add(MergeObject([], item));
            }
        }

        var patchOrder = patch.OfType<JsonObject>().Where(p => p.Str("$patch") != "delete").Select(p => p[mergeKey]).ToList();
        return NormalizeOrder(result, patchOrder, target, mergeKey);
    }

    /// <summary>
    /// The order kube-apiserver gives a merged list (apimachinery's <c>normalizeElementOrder</c>): the items the patch
    /// names in the patch's order (or its <c>$setElementOrder</c>), the others in their stored order, merged so that a
    /// stored item goes first only while it stood before the patch item in the stored list. An item the store did not
    /// have goes before the stored items not yet placed: a patch adding env <c>EXTRA</c> to <c>[MODE]</c> gives
    /// <c>[EXTRA, MODE]</c> (measured on v1.24).
    /// </summary>
    private static JsonArray NormalizeOrder(JsonArray merged, List<JsonNode?> patchOrder, JsonArray? original, string mergeKey)
    {
        var serverOrder = (original ?? []).Select(o => o?[mergeKey]).ToList();
        static int IndexIn(List<JsonNode?> keys, JsonNode? key) => keys.FindIndex(k => JsonNode.DeepEquals(k, key));
        var items = merged.Select(i => i?.DeepClone()).ToList();
        var patchItems = items.Where(i => IndexIn(patchOrder, i?[mergeKey]) >= 0).OrderBy(i => IndexIn(patchOrder, i?[mergeKey])).ToList();
        var serverOnly = items.Where(i => IndexIn(patchOrder, i?[mergeKey]) < 0)
            .OrderBy(i => IndexIn(serverOrder, i?[mergeKey]) is var index and >= 0 ? index : int.MaxValue).ToList();

        var ordered = new JsonArray();
        int left = 0, right = 0;
        while (left < serverOnly.Count || right < patchItems.Count)
        {
            if (right >= patchItems.Count)
            {
                ordered.Add(serverOnly[left++]);
            }
            else if (left >= serverOnly.Count)
            {
                ordered.Add(patchItems[right++]);
            }
            else
            {
                var stored = IndexIn(serverOrder, serverOnly[left]?[mergeKey]);
                var patched = IndexIn(serverOrder, patchItems[right]?[mergeKey]);
                ordered.Add(stored >= 0 && patched >= 0 && stored < patched ? serverOnly[left++] : patchItems[right++]);
            }
        }

        return ordered;
    }

    private static int IndexOf(JsonArray list, string mergeKey, JsonNode? keyValue)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is JsonObject candidate && JsonNode.DeepEquals(candidate[mergeKey], keyValue))
            {
                return i;
            }
        }

        return -1;
    }

    private static JsonObject StripDirectives(JsonObject obj)
    {
        foreach (var key in obj.Select(p => p.Key).Where(k => k.StartsWith('$')).ToList())
        {
            obj.Remove(key);
        }

        foreach (var (_, value) in obj)
        {
            if (value is JsonObject child)
            {
                StripDirectives(child);
            }
        }

        return obj;
    }

    internal static JsonNode? ParseBody(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"error decoding patch: {e.Message}");
        }
    }
}
