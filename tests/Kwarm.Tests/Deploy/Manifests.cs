using System.Text.Json.Nodes;
using Kwarm.Tests.Noop;
using Kwarm.Tests.Resources;

namespace Kwarm.Tests.Deploy;

/// <summary>The install manifests of the repository, as kubectl and the chart renderer produce them.</summary>
internal static class Manifests
{
    public const string Namespace = "kwarm-system";

    public static string Root => RepositoryFiles.Root;

    public static string ChartDirectory => Path.Combine(Root, "deploy", "charts", "kwarm");

    public static string InRepository(params string[] parts) => Path.Combine([Root, .. parts]);

    private static readonly Lazy<Task<IReadOnlyList<JsonObject>>> Kustomized = new(() => RenderKustomizeAsync("deploy/kustomize/default"));

    private static readonly Lazy<Task<IReadOnlyList<JsonObject>>> KustomizedTaintNewNodes = new(() => RenderKustomizeAsync("deploy/kustomize/taint-new-nodes"));

    /// <summary><c>kubectl kustomize deploy/kustomize/default</c>, parsed; rendered once per test run.</summary>
    public static Task<IReadOnlyList<JsonObject>> KustomizeDefaultAsync() => Kustomized.Value;

    /// <summary><c>kubectl kustomize deploy/kustomize/taint-new-nodes</c> (issue #17), parsed; rendered once per test run.</summary>
    public static Task<IReadOnlyList<JsonObject>> KustomizeTaintNewNodesAsync() => KustomizedTaintNewNodes.Value;

    private static async Task<IReadOnlyList<JsonObject>> RenderKustomizeAsync(string directory)
    {
        var kubectl = ProcessRun.FindOnPath("kubectl")
            ?? throw new InvalidOperationException($"kubectl is needed on PATH to render {directory}");
        var run = await ProcessRun.StartAsync(kubectl, ["kustomize", directory], Root, CancellationToken.None);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize {directory} failed: {run}");
        }

        return Parse(run.StandardOutput);
    }

    /// <summary>The chart rendered into <paramref name="releaseNamespace"/> with <paramref name="overrides"/> on top of values.yaml.</summary>
    public static IReadOnlyList<JsonObject> RenderChart(JsonObject? overrides = null, string releaseNamespace = Namespace)
    {
        var renderer = new ChartTemplateRenderer(ChartDirectory, ChartTemplateRenderer.Values(ChartDirectory, overrides), "kwarm", releaseNamespace);
        return renderer.RenderAll().Values.SelectMany(Parse).ToList();
    }

    public static IReadOnlyList<JsonObject> Parse(string yaml) =>
        YamlJson.ReadAll(yaml).OfType<JsonObject>().ToList();

    public static JsonObject Single(this IEnumerable<JsonObject> objects, string kind, string name)
    {
        var matches = objects.Where(item => Kind(item) == kind && Name(item) == name).ToList();
        return matches.Count == 1 ? matches[0]
            : throw new Xunit.Sdk.XunitException($"expected one {kind} {name}, found {matches.Count} among: {string.Join(", ", objects.Select(Identity))}");
    }

    public static string Kind(JsonObject item) => item["kind"]?.GetValue<string>() ?? "";

    public static string Name(JsonObject item) => item["metadata"]?["name"]?.GetValue<string>() ?? "";

    public static string? NamespaceOf(JsonObject item) => item["metadata"]?["namespace"]?.GetValue<string>();

    public static string Identity(JsonObject item) => $"{Kind(item)}/{NamespaceOf(item)}/{Name(item)}";

    /// <summary>A scalar as text: strings as they are, numbers and booleans as JSON writes them.</summary>
    public static string? Str(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : node?.ToJsonString();

    /// <summary>RBAC rules as comparable strings: "apiGroups|resources|verbs" with each list in its written order.</summary>
    public static IReadOnlyList<string> Rules(JsonObject role) =>
        role["rules"]!.AsArray().Select(rule => string.Join('|',
            Join(rule!["apiGroups"]), Join(rule["resources"]), Join(rule["verbs"]))).ToList();

    private static string Join(JsonNode? list) =>
        list is null ? "" : string.Join(',', list.AsArray().Select(item => item!.GetValue<string>()));

    public static bool SameTree(JsonNode? left, JsonNode? right) => JsonNode.DeepEquals(left, right);
}
