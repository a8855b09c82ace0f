using System.Globalization;
using System.Text.Json;
using Kwarm.Resources;

namespace Kwarm.Workloads;

/// <summary>
/// How each kind of workload is held and released (DESIGN §3, §10; issue #16), as facts shared by the webhook that
/// places a hold and the controller that releases it:
/// <list type="bullet">
/// <item>Deployment: <c>spec.paused: true</c>.</item>
/// <item>StatefulSet (<c>RollingUpdate</c>): <c>spec.updateStrategy.rollingUpdate.partition</c> raised to
///   <see cref="HeldPartition"/>, the user's value kept in <c>kwarm.io/partition</c> (a number, or <c>none</c>).</item>
/// <item>DaemonSet (<c>RollingUpdate</c>): <c>spec.updateStrategy</c> switched to <c>{"type":"OnDelete"}</c>, the user's
///   strategy kept as compact JSON in <c>kwarm.io/update-strategy</c>.</item>
/// </list>
/// A StatefulSet or DaemonSet whose own strategy is <c>OnDelete</c> is pre-pulled without a hold.
/// </summary>
public static class HoldMechanics
{
    /// <summary>No ordinal is at or above it: no pod is updated, and a scale-up's new pods get the current revision.</summary>
    public const int HeldPartition = int.MaxValue;

    public const string RollingUpdate = "RollingUpdate";
    public const string OnDelete = "OnDelete";

    /// <summary>The <c>kwarm.io/partition</c> value for a StatefulSet without a partition field.</summary>
    public const string NoPartition = "none";

    /// <summary>The API server's default partition, restored when the recorded value is lost.</summary>
    public const int DefaultPartition = 0;

    /// <summary>The API server's default DaemonSet strategy (v1.24), restored when the recorded value is lost.</summary>
    public const string DefaultDaemonSetStrategy = """{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}""";

    /// <summary>The DaemonSet strategy of a hold.</summary>
    public const string HeldDaemonSetStrategy = """{"type":"OnDelete"}""";

    /// <summary>The kind named by an AdmissionReview's <c>kind</c> (group <c>apps</c>), or null for any other kind.</summary>
    public static WorkloadKind? KindOf(string? group, string? kind) =>
        group != "apps" ? null : kind switch
        {
            "Deployment" => WorkloadKind.Deployment,
            "StatefulSet" => WorkloadKind.StatefulSet,
            "DaemonSet" => WorkloadKind.DaemonSet,
            _ => null,
        };

    /// <summary>The label naming the workload on its PrePullImages (and the annotation holding its full name).</summary>
    public static string OwnerLabel(WorkloadKind kind) => kind switch
    {
        WorkloadKind.StatefulSet => KwarmApi.StatefulSetLabel,
        WorkloadKind.DaemonSet => KwarmApi.DaemonSetLabel,
        _ => KwarmApi.DeploymentLabel,
    };

    /// <summary>The annotation where the webhook records the user's value; null for a Deployment (its pause needs no record).</summary>
    public static string? RecordAnnotation(WorkloadKind kind) => kind switch
    {
        WorkloadKind.StatefulSet => KwarmApi.PartitionAnnotation,
        WorkloadKind.DaemonSet => KwarmApi.UpdateStrategyAnnotation,
        _ => null,
    };

    /// <summary>The hold's change is in place on a StatefulSet: strategy RollingUpdate (or not given) and the partition at its maximum.</summary>
    public static bool IsHeldPartition(string? strategyType, int? partition) =>
        strategyType is null or RollingUpdate && partition == HeldPartition;

    /// <summary>The <c>kwarm.io/partition</c> text of a partition field: the number, or <c>none</c>.</summary>
    public static string PartitionRecord(int? partition) =>
        partition is { } value ? value.ToString(CultureInfo.InvariantCulture) : NoPartition;

    /// <summary>
    /// Reads a <c>kwarm.io/partition</c> record: true with the number (null for <c>none</c>), false when it is missing or
    /// is not a number from 0 to 2147483646 (edited by hand: the release then restores the default and says so).
    /// </summary>
    public static bool TryParsePartitionRecord(string? record, out int? partition)
    {
        partition = null;
        if (record == NoPartition)
        {
            return true;
        }

        if (int.TryParse(record, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value < HeldPartition)
        {
            partition = value;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Reads a <c>kwarm.io/update-strategy</c> record: true when it is a JSON object the API server would take as a DaemonSet
    /// strategy (<c>type</c> RollingUpdate or OnDelete; <c>rollingUpdate</c> an object of integers or percentages, and only with
    /// RollingUpdate). Anything else would make every release refused (422) forever, so it counts as lost.
    /// </summary>
    public static bool TryParseDaemonSetStrategyRecord(string? record, out JsonElement strategy)
    {
        strategy = default;
        if (string.IsNullOrEmpty(record))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(record);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !IsDaemonSetStrategy(root))
            {
                return false;
            }

            strategy = root.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsDaemonSetStrategy(JsonElement root)
    {
        var type = root.TryGetProperty("type", out var typeValue) ? typeValue : default;
        if (type.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.String))
        {
            return false;
        }

        var typeName = type.ValueKind == JsonValueKind.String ? type.GetString() : RollingUpdate;
        if (typeName is not (RollingUpdate or OnDelete))
        {
            return false;
        }

        if (!root.TryGetProperty("rollingUpdate", out var rolling) || rolling.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        return typeName == RollingUpdate && rolling.ValueKind == JsonValueKind.Object
            && rolling.EnumerateObject().All(field => field.Value.ValueKind == JsonValueKind.Number
                ? field.Value.TryGetInt32(out var count) && count >= 0
                : field.Value.ValueKind == JsonValueKind.String && IsPercent(field.Value.GetString()!));
    }

    private static bool IsPercent(string text) =>
        text.Length > 1 && text[^1] == '%' && text[..^1].All(char.IsAsciiDigit);

    /// <summary>Parses constant JSON into an element that outlives its document.</summary>
    public static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
