using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>
/// What kube-apiserver v1.24's apps strategies do to StatefulSets and DaemonSets besides defaulting: the DaemonSet's
/// template generation (annotation <c>deprecated.daemonset.template.generation</c>, 1 on create, one more on every
/// template change) and the validation errors for the mistakes a person makes, with the server's messages (measured
/// on a real v1.24 server; Go's <c>%#v</c> renderings included).
/// </summary>
public static class WorkloadRules
{
    public const string TemplateGenerationAnnotation = "deprecated.daemonset.template.generation";

    private const string StatefulSetUpdateForbidden =
        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

    /// <summary>The fields of a StatefulSet spec an update may change; any other change is refused.</summary>
    private static readonly string[] StatefulSetMutableFields = ["replicas", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

    /// <summary>Runs after mutating admission, as the strategy's PrepareForCreate/PrepareForUpdate do.</summary>
    public static void Prepare(ResourceType type, JsonObject proposed, JsonObject? old)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(proposed);
        if (type.StorageKey != "daemonsets.apps")
        {
            return;
        }

        // Decided: a template change moves the old value on; otherwise the old value stays, whatever the request says
        // (the real server would take a client's own edit of the annotation; no client does that).
        long generation = 1;
        if (old is not null)
        {
            var previous = long.TryParse(old.Str("metadata", "annotations", TemplateGenerationAnnotation), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
            generation = JsonNode.DeepEquals(old.At("spec", "template"), proposed.At("spec", "template")) ? previous : previous + 1;
        }

        proposed.Metadata().Obj("annotations")[TemplateGenerationAnnotation] = generation.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The field errors of a StatefulSet or DaemonSet (create when <paramref name="old"/> is null, else update).</summary>
    public static List<(string Field, string Message)> Problems(ResourceType type, JsonObject obj, JsonObject? old)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(obj);
        var causes = new List<(string, string)>();
        if (type.StorageKey is not ("statefulsets.apps" or "daemonsets.apps"))
        {
            return causes;
        }

        var statefulSet = type.StorageKey == "statefulsets.apps";
        if (statefulSet)
        {
            StatefulSetStrategy(obj, causes);
        }
        else
        {
            DaemonSetStrategy(obj, causes);
        }

        var selector = obj.At("spec", "selector");
        if (selector is not JsonObject { Count: > 0 })
        {
            causes.Add(("spec.selector", "Required value"));
        }
        else
        {
            var labels = obj.StringMap("spec", "template", "metadata", "labels");
            if (!LabelSelector.FromObject(selector).Matches(labels))
            {
                causes.Add(("spec.template.metadata.labels", $"Invalid value: {GoMap(labels)}: `selector` does not match template `labels`"));
            }
        }

        if (obj.Long("spec", "replicas") is < 0 and var replicas)
        {
            causes.Add(("spec.replicas", $"Invalid value: {replicas}: must be greater than or equal to 0"));
        }

        var podSpec = obj.At("spec", "template", "spec");
        if (podSpec.Objects("containers").FirstOrDefault() is null)
        {
            causes.Add(("spec.template.spec.containers", "Required value"));
        }

        if (podSpec.Str("restartPolicy") is { } restart and not "Always")
        {
            causes.Add(("spec.template.spec.restartPolicy", $"Unsupported value: \"{restart}\": supported values: \"Always\""));
        }

        if (old is not null)
        {
            if (statefulSet && !OnlyMutableFieldsChanged(old, obj))
            {
                causes.Add(("spec", StatefulSetUpdateForbidden));
            }
            else if (!statefulSet && !JsonNode.DeepEquals(old.At("spec", "selector"), obj.At("spec", "selector")))
            {
                causes.Add(("spec.selector", $"Invalid value: {GoLabelSelector(obj.At("spec", "selector"))}: field is immutable"));
            }
        }

        return causes;
    }

    private static void StatefulSetStrategy(JsonObject obj, List<(string, string)> causes)
    {
        var policy = obj.Str("spec", "podManagementPolicy");
        if (policy is not ("OrderedReady" or "Parallel"))
        {
            causes.Add(("spec.podManagementPolicy", $"Invalid value: \"{policy}\": must be 'OrderedReady' or 'Parallel'"));
        }

        var strategy = obj.At("spec", "updateStrategy") as JsonObject ?? [];
        var rolling = strategy["rollingUpdate"] as JsonObject;
        switch (strategy.Str("type"))
        {
            case "OnDelete" when rolling is not null:
                causes.Add(("spec.updateStrategy.rollingUpdate",
                    $"Invalid value: apps.RollingUpdateStatefulSetStrategy{{Partition:{rolling.Long("partition") ?? 0}}}: only allowed for updateStrategy 'RollingUpdate'"));
                break;
            case "OnDelete":
                break;
            case "RollingUpdate":
                if (rolling?.Long("partition") is < 0 and var partition)
                {
                    causes.Add(("spec.updateStrategy.rollingUpdate.partition", $"Invalid value: {partition}: must be greater than or equal to 0"));
                }

                break;
            case var other:
                causes.Add(("spec.updateStrategy",
                    $"Invalid value: apps.StatefulSetUpdateStrategy{{Type:\"{other}\", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)({(rolling is null ? "nil" : "0xc000000000")})}}: must be 'RollingUpdate' or 'OnDelete'"));
                break;
        }
    }

    private static void DaemonSetStrategy(JsonObject obj, List<(string, string)> causes)
    {
        var strategy = obj.At("spec", "updateStrategy") as JsonObject ?? [];
        var type = strategy.Str("type");
        if (type is "OnDelete")
        {
            return;
        }

        var rolling = strategy["rollingUpdate"] as JsonObject;
        if (type is not "RollingUpdate")
        {
            causes.Add(("spec.updateStrategy",
                $"Unsupported value: apps.DaemonSetUpdateStrategy{{Type:\"{type}\", RollingUpdate:(*apps.RollingUpdateDaemonSet)({(rolling is null ? "nil" : "0xc000000000")})}}: supported values: \"RollingUpdate\", \"OnDelete\""));
            return;
        }

        var maxUnavailable = rolling?["maxUnavailable"];
        var maxSurge = rolling?["maxSurge"];
        foreach (var (name, value) in new[] { ("maxUnavailable", maxUnavailable), ("maxSurge", maxSurge) })
        {
            if (IsPercent(value, out var percent) && percent > 100)
            {
                causes.Add(($"spec.updateStrategy.rollingUpdate.{name}", $"Invalid value: {GoIntOrString(value)}: must not be greater than 100%"));
            }
        }

        var unavailableZero = IsZero(maxUnavailable);
        if (unavailableZero && IsZero(maxSurge))
        {
            causes.Add(("spec.updateStrategy.rollingUpdate.maxUnavailable", "Required value: cannot be 0 when maxSurge is 0"));
        }
        else if (!unavailableZero && !IsZero(maxSurge))
        {
            causes.Add(("spec.updateStrategy.rollingUpdate.maxSurge", $"Invalid value: {GoIntOrString(maxSurge)}: may not be set when maxUnavailable is non-zero"));
        }
    }

    private static bool OnlyMutableFieldsChanged(JsonObject old, JsonObject proposed)
    {
        var before = (old.At("spec") as JsonObject ?? []).DeepClone().AsObject();
        var after = (proposed.At("spec") as JsonObject ?? []).DeepClone().AsObject();
        foreach (var field in StatefulSetMutableFields)
        {
            before.Remove(field);
            after.Remove(field);
        }

        return JsonNode.DeepEquals(before, after);
    }

    private static bool IsPercent(JsonNode? value, out double percent)
    {
        percent = 0;
        return value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.ToString() is { } text && text.EndsWith('%')
            && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out percent);
    }

    private static bool IsZero(JsonNode? value) => value switch
    {
        null => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture) == 0,
        _ => IsPercent(value, out var percent) ? percent == 0 : value.ToString() is "0" or "",
    };

    /// <summary>Go's <c>%#v</c> of an intstr.IntOrString, as the API server prints it in a field error.</summary>
    private static string GoIntOrString(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            ? $"intstr.IntOrString{{Type:0, IntVal:{v.ToJsonString()}, StrVal:\"\"}}"
            : $"intstr.IntOrString{{Type:1, IntVal:0, StrVal:\"{value}\"}}";

    /// <summary>Go's <c>%#v</c> of a <c>map[string]string</c> (keys sorted).</summary>
    private static string GoMap(Dictionary<string, string> map) =>
        map.Count == 0 ? "map[string]string(nil)" : "map[string]string{" + string.Join(", ", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":\"{p.Value}\"")) + "}";

    private static string GoLabelSelector(JsonNode? selector) =>
        $"v1.LabelSelector{{MatchLabels:{GoMap(selector.StringMap("matchLabels"))}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}";
}
