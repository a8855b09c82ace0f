using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>Finds the API-server answers recorded from a real kube-apiserver v1.24: <c>tests/fixtures</c> in the repository.</summary>
internal static class Fixtures
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Kwarm.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException("Kwarm.sln not found above " + AppContext.BaseDirectory);
        }

        return Path.Combine(directory.FullName, "tests", "fixtures");
    });

    public static string PathOf(string relative) => Path.Combine(Root.Value, relative);

    public static JsonObject Json(string relative) => JsonNode.Parse(File.ReadAllText(PathOf(relative)))!.AsObject();

    /// <summary>
    /// The complete events of a recorded stream. A recording may stop in the middle of its last event (the stream was
    /// cut when recording ended): that unfinished line is dropped; any other broken line is an error.
    /// </summary>
    public static IReadOnlyList<JsonObject> Lines(string relative)
    {
        var lines = File.ReadAllLines(PathOf(relative)).Where(l => l.Trim().Length > 0).ToList();
        var events = new List<JsonObject>();
        for (var i = 0; i < lines.Count; i++)
        {
            try
            {
                events.Add(JsonNode.Parse(lines[i])!.AsObject());
            }
            catch (System.Text.Json.JsonException) when (i == lines.Count - 1 && !lines[i].TrimEnd().EndsWith('}'))
            {
                break;
            }
        }

        return events;
    }

    public static IEnumerable<string> ApiFiles() =>
        Directory.EnumerateFiles(Path.Combine(Root.Value, "api")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
}
