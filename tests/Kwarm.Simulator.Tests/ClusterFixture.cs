using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary>Starts a simulated cluster for a test and offers raw HTTP helpers against it.</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private TestCluster(SimulatedCluster cluster)
    {
        Cluster = cluster;
        Http = cluster.CreateHttpClient();
    }

    public SimulatedCluster Cluster { get; }

    public HttpClient Http { get; }

    public static async Task<TestCluster> StartAsync(SimulatorOptions? options = null) =>
        new(await SimulatedCluster.StartAsync(options ?? new SimulatorOptions { RunControllers = false }, TestContext.Current.CancellationToken));

    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<JsonObject> CreateAsync(string path, JsonObject body)
    {
        var (status, created) = await SendAsync(HttpMethod.Post, path, body);
        Assert.True(status == HttpStatusCode.Created, $"create {path} answered {(int)status}: {created?.ToJsonString()}");
        return created!.AsObject();
    }

    /// <summary>
    /// Creates the namespace and, when the cluster runs its controllers, waits for its <c>default</c> ServiceAccount:
    /// pods are refused until the service-account controller has made it, as on a real cluster.
    /// </summary>
    public async Task CreateNamespaceAsync(string name)
    {
        await CreateAsync("/api/v1/namespaces", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name } });
        if (Cluster.Options.RunControllers)
        {
            await Eventually.WaitUntilAsync(() => Get("", "serviceaccounts", name, "default") is not null, $"service account {name}/default");
        }
    }

    public static JsonObject Deployment(string name, string ns, string image, int replicas = 2) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = new JsonObject { ["app"] = name } },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = name, ["image"] = image }) },
            },
        },
    };

    public JsonObject? Get(string group, string plural, string ns, string name) =>
        Cluster.Store.Get(Cluster.Catalog.Get(group, plural), ns, name)?.ToNode();

    public IReadOnlyList<JsonObject> List(string group, string plural, string? ns = null) =>
        [.. Cluster.Store.List(Cluster.Catalog.Get(group, plural), ns).Items.Select(i => i.ToNode())];

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Cluster.DisposeAsync();
    }
}
