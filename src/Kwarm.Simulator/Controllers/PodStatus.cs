using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Controllers;

/// <summary>Pod facts the controllers read.</summary>
public static class PodStatus
{
    public static bool IsReady(JsonObject pod) =>
        pod.Objects("status", "conditions").Any(c => c.Str("type") == "Ready" && c.Str("status") == "True");

    public static bool IsTerminal(JsonObject pod) => pod.Str("status", "phase") is "Succeeded" or "Failed";

    public static bool IsTerminal(StoredObject pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return pod.Phase is "Succeeded" or "Failed";
    }

    /// <summary>Writes <paramref name="value"/> at <paramref name="name"/>, or removes it when zero (Go's omitempty).</summary>
    public static void SetCount(JsonObject status, string name, long value)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (value == 0)
        {
            status.Remove(name);
        }
        else
        {
            status[name] = value;
        }
    }

    /// <summary>Sets a condition, keeping lastTransitionTime unless the status flips; returns whether anything changed.</summary>
    public static bool SetCondition(JsonObject status, string type, string conditionStatus, string reason, string message, string now, bool withUpdateTime = false, bool touchUpdateTime = false)
    {
        ArgumentNullException.ThrowIfNull(status);
        var conditions = status.Arr("conditions");
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => c.Str("type") == type);
        if (existing is not null && existing.Str("status") == conditionStatus && existing.Str("reason") == reason && existing.Str("message") == message && !touchUpdateTime)
        {
            return false;
        }

        var condition = new JsonObject { ["type"] = type, ["status"] = conditionStatus };
        if (withUpdateTime)
        {
            condition["lastUpdateTime"] = now;
        }

        condition["lastTransitionTime"] = existing is not null && existing.Str("status") == conditionStatus ? existing.Str("lastTransitionTime") : now;
        condition["reason"] = reason;
        condition["message"] = message;
        if (existing is null)
        {
            conditions.Add(condition);
        }
        else
        {
            conditions[conditions.IndexOf(existing)] = condition;
        }

        return true;
    }
}
