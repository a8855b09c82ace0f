using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Nodes;

/// <summary>
/// The container status entries and pod conditions a containerd kubelet writes: <c>image</c> is the normalised
/// reference, <c>imageID</c> the repo digest (<c>repo@sha256:…</c>), <c>containerID</c> a <c>containerd://</c> id.
/// </summary>
internal static class ContainerStates
{
    public static JsonObject Waiting(JsonObject container, string reason, string? message)
    {
        var waiting = new JsonObject { ["reason"] = reason };
        if (message is not null)
        {
            waiting["message"] = message;
        }

        return new JsonObject
        {
            ["name"] = container.Str("name"),
            ["state"] = new JsonObject { ["waiting"] = waiting },
            ["lastState"] = new JsonObject(),
            ["ready"] = false,
            ["restartCount"] = 0,
            ["image"] = container.Str("image"),
            ["imageID"] = "",
            ["started"] = false,
        };
    }

    public static JsonObject Running(JsonObject container, string imageId, string startedAt, bool ready) => new()
    {
        ["name"] = container.Str("name"),
        ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = startedAt } },
        ["lastState"] = new JsonObject(),
        ["ready"] = ready,
        ["restartCount"] = 0,
        ["image"] = ImageReference.Normalize(container.Str("image") ?? ""),
        ["imageID"] = imageId,
        ["containerID"] = ContainerId(imageId, container.Str("name")),
        ["started"] = true,
    };

    public static JsonObject Terminated(JsonObject container, string imageId, string startedAt, string finishedAt, int exitCode = 0) => new()
    {
        ["name"] = container.Str("name"),
        ["state"] = new JsonObject
        {
            ["terminated"] = new JsonObject
            {
                ["exitCode"] = exitCode,
                ["reason"] = exitCode == 0 ? "Completed" : "Error",
                ["startedAt"] = startedAt,
                ["finishedAt"] = finishedAt,
                ["containerID"] = ContainerId(imageId, container.Str("name")),
            },
        },
        ["lastState"] = new JsonObject(),
        ["ready"] = false,
        ["restartCount"] = 0,
        ["image"] = ImageReference.Normalize(container.Str("image") ?? ""),
        ["imageID"] = imageId,
        ["containerID"] = ContainerId(imageId, container.Str("name")),
        ["started"] = false,
    };

    /// <summary>Drops empty reasons and messages (Go's omitempty) and writes <c>lastProbeTime: null</c>, as the kubelet does.</summary>
    public static void CleanConditions(JsonObject status)
    {
        foreach (var condition in status.Objects("conditions"))
        {
            if (condition.Str("reason") is "")
            {
                condition.Remove("reason");
            }

            if (condition.Str("message") is "")
            {
                condition.Remove("message");
            }

            condition["lastProbeTime"] = null;
        }
    }

    public static string ContainerId(string imageId, string? name) =>
        "containerd://" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(imageId + "/" + name))).ToLowerInvariant();

    /// <summary>A stable pod IP in 10.0.0.0/8 from the pod's uid.</summary>
    public static string PodIp(string uid)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(uid));
        return $"10.{bytes[0]}.{bytes[1]}.{Math.Max((int)bytes[2], 1)}";
    }
}
