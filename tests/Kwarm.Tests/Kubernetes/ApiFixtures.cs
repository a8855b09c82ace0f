using System.Text.Json.Nodes;

using Kwarm.Tests.Resources;

namespace Kwarm.Tests.Kubernetes;

/// <summary>The recorded API-server answers in <c>tests/fixtures/api</c>, found from the repository root.</summary>
internal static class ApiFixtures
{
    private static readonly Lazy<string> Directory = new(() => System.IO.Path.Combine(RepositoryFiles.RecordedFixtures, "api"));

    public static string Path(string name) => System.IO.Path.Combine(Directory.Value, name);

    public static string Text(string name) => File.ReadAllText(Path(name));

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public static JsonObject Json(string name) => JsonNode.Parse(Text(name))!.AsObject();

    /// <summary>The Deployment of <c>list-deployments-limit1.json</c>, to derive other objects from.</summary>
    public static JsonObject ListedDeployment() => Json("list-deployments-limit1.json")["items"]![0]!.AsObject();

    /// <summary>A DeploymentList made of the given items, at <paramref name="resourceVersion"/>.</summary>
    public static string DeploymentList(string resourceVersion, string? continueToken, params JsonObject[] items)
    {
        var list = Json("list-deployments-limit1.json");
        var metadata = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (continueToken is not null)
        {
            metadata["continue"] = continueToken;
            metadata["remainingItemCount"] = 1;
        }

        list["metadata"] = metadata;
        list["items"] = new JsonArray(items.Select(item => (JsonNode)item.DeepClone()).ToArray());
        return list.ToJsonString();
    }

    /// <summary>A copy of <paramref name="deployment"/> renamed, with its own uid and resourceVersion.</summary>
    public static JsonObject Renamed(JsonObject deployment, string name, string resourceVersion)
    {
        var copy = deployment.DeepClone().AsObject();
        copy["metadata"]!["name"] = name;
        copy["metadata"]!["uid"] = $"uid-{name}";
        copy["metadata"]!["resourceVersion"] = resourceVersion;
        return copy;
    }

    /// <summary>The complete events of <c>watch-deployments-stream.jsonl</c> (the recording ends mid-event).</summary>
    public static IReadOnlyList<JsonObject> CompleteStreamEvents()
    {
        var events = new List<JsonObject>();
        foreach (var line in File.ReadAllLines(Path("watch-deployments-stream.jsonl")))
        {
            try
            {
                events.Add(JsonNode.Parse(line)!.AsObject());
            }
            catch (System.Text.Json.JsonException)
            {
                // the recording's last, cut-off line
            }
        }

        return events;
    }
}
