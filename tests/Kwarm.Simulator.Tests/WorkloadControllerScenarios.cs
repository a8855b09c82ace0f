using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kwarm.Testing;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// StatefulSets and DaemonSets as the API server stores them and as their controllers roll them, with the real kubectl,
/// as one definition run against two clusters: the simulator (<see cref="WorkloadControllerTests"/>) and a real v1.24
/// control plane (kube-controller-manager runs both controllers) with simulated nodes attached
/// (<see cref="WorkloadControllerRealApiServerTests"/>). Where they disagree the simulator is wrong. Every DaemonSet
/// selects the test's own nodes by a label the test puts on them, so nodes of other tests on a shared cluster never
/// count; every name of a namespace comes from <see cref="Unique"/>.
/// </summary>
public abstract partial class WorkloadControllerScenarios : IAsyncLifetime
{
    private const string Image = "registry.local/infra/agent";
    private Kubectl _kubectl = null!;
    private string _folder = "";

    /// <summary>The namespace every scenario works in.</summary>
    protected string Apps => Unique("apps");

    /// <summary>The label (key and value) the test puts on its three nodes.</summary>
    protected const string NodeLabel = "workload-test";

    protected string NodeLabelValue => Unique("nodes");

    /// <summary>The name a test gives a namespace on this cluster.</summary>
    protected abstract string Unique(string name);

    /// <summary>Starts (or joins) the cluster with three nodes; returns the kubeconfig kubectl uses.</summary>
    protected abstract Task<string> StartClusterAsync(string folder);

    protected abstract ValueTask StopClusterAsync();

    /// <summary>The test's three nodes.</summary>
    protected abstract IReadOnlyList<string> NodeNames { get; }

    /// <summary>What went wrong in the background (the simulator's controllers, the simulated kubelets).</summary>
    protected abstract IReadOnlyCollection<string> BackgroundErrors { get; }

    /// <summary>The namespaces the scenarios create, for a shared cluster to delete after each test.</summary>
    protected IReadOnlyList<string> Created => ["namespace/" + Apps];

    public async ValueTask InitializeAsync()
    {
        Assert.True(Kubectl.Path is not null, "kubectl must be on PATH (README, Set up)");
        _folder = Directory.CreateTempSubdirectory("kwarm-workloads-").FullName;
        _kubectl = new Kubectl(await StartClusterAsync(_folder));
        await Ok("create", "namespace", Apps);
        foreach (var node in NodeNames)
        {
            await Ok("label", "node", node, $"{NodeLabel}={NodeLabelValue}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopClusterAsync();
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    protected Task<Kubectl.Result> Run(params string[] args) => _kubectl.RunAsync(args);

    protected Task<string> Ok(params string[] args) => _kubectl.SucceedAsync(args);

    private async Task Apply(string name, string yaml) => await Ok("apply", "-f", await WriteAsync(name, yaml));

    /// <summary>Writes a manifest into the test's folder; returns its path.</summary>
    protected async Task<string> WriteAsync(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        await File.WriteAllTextAsync(path, text, TestContext.Current.CancellationToken);
        return path;
    }

    private async Task<JsonObject> Get(string kind, string name) =>
        JsonNode.Parse(await Ok("get", kind, name, "-n", Apps, "-o", "json"))!.AsObject();

    private async Task<List<JsonObject>> Pods(string app) =>
        [.. JsonNode.Parse(await Ok("get", "pods", "-n", Apps, "-l", "app=" + app, "-o", "json"))!["items"]!.AsArray().Select(p => p!.AsObject())];

    private static string Label(JsonObject obj, string key) => obj["metadata"]!["labels"]![key]!.GetValue<string>();

    private static string Text(JsonNode? node, params string[] path) => path.Aggregate(node, (n, p) => n?[p])?.GetValue<string>() ?? "";

    private static long Number(JsonNode? node, params string[] path) => path.Aggregate(node, (n, p) => n?[p])?.GetValue<long>() ?? 0;

    private string StatefulSetYaml(string name, int replicas, string strategy, string tag = "1") => $$$"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: {{{name}}}, namespace: {{{Apps}}}}
        spec:
          serviceName: {{{name}}}
          replicas: {{{replicas}}}
          {{{strategy}}}
          selector: {matchLabels: {app: {{{name}}}}}
          template:
            metadata: {labels: {app: {{{name}}}}}
            spec:
              nodeSelector: {{{{NodeLabel}}}: {{{NodeLabelValue}}}}
              containers: [{name: main, image: "{{{Image}}}:{{{tag}}}"}]
        """;

    private string DaemonSetYaml(string name, string strategy, string extraSpec = "") => $$$"""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: {{{name}}}, namespace: {{{Apps}}}}
        spec:
          {{{strategy}}}
          selector: {matchLabels: {app: {{{name}}}}}
          template:
            metadata: {labels: {app: {{{name}}}}}
            spec:
              {{{extraSpec}}}
              containers: [{name: main, image: "{{{Image}}}:1"}]
        """;

    private string OwnNodes => $"nodeSelector: {{{NodeLabel}: {NodeLabelValue}}}";

    /// <summary>Polls until the condition holds: 60 s is for the real controllers, the simulator takes well under one.</summary>
    protected static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 600; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{what}: not reached within 60 s");
    }

    private async Task WaitObserved(string kind, string name)
    {
        await Eventually(async () =>
        {
            var obj = await Get(kind, name);
            return Number(obj, "status", "observedGeneration") == Number(obj, "metadata", "generation");
        }, $"{kind}/{name} observed");
    }

    private static void AssertMatches(string pattern, string text) =>
        Assert.True(Regex.IsMatch(text, pattern), $"expected /{pattern}/ in:\n{text}");
}
