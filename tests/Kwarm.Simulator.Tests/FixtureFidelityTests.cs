using System.Net;
using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>The simulator answers like the recorded kube-apiserver in tests/fixtures/api.</summary>
public sealed class FixtureFidelityTests
{
    [Fact]
    public void Every_api_fixture_is_covered_by_a_test()
    {
        var covered = new[]
        {
            "get-deployment.json", "get-missing-404.json", "json-patch-test-failed.json", "list-deployments-limit1.json",
            "list-expired-410.json", "put-stale-resourceversion-409.json", "watch-deployments-stream.jsonl", "watch-expired-410.jsonl",
        };
        Assert.Equal(covered.Order(StringComparer.Ordinal), Fixtures.ApiFiles());
    }

    [Fact]
    public async Task Get_of_a_missing_pod_is_the_recorded_404()
    {
        await using var cluster = await TestCluster.StartAsync();
        var (status, body) = await cluster.SendAsync(HttpMethod.Get, "/api/v1/namespaces/default/pods/x");
        Assert.Equal(HttpStatusCode.NotFound, status);
        AssertJsonEqual(Fixtures.Json("api/get-missing-404.json"), body);
    }

    [Fact]
    public async Task Put_with_a_stale_resourceVersion_is_the_recorded_409()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNamespaceAsync("shop");
        var created = await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/shop/web:1.1"));
        var stale = (JsonObject)created.DeepClone();
        var (first, _) = await cluster.SendAsync(HttpMethod.Put, "/apis/apps/v1/namespaces/shop/deployments/web", Relabel(created, "v", "1"));
        Assert.Equal(HttpStatusCode.OK, first);

        var (status, body) = await cluster.SendAsync(HttpMethod.Put, "/apis/apps/v1/namespaces/shop/deployments/web", Relabel(stale, "v", "2"));
        Assert.Equal(HttpStatusCode.Conflict, status);
        AssertJsonEqual(Fixtures.Json("api/put-stale-resourceversion-409.json"), body);
    }

    [Fact]
    public async Task Json_patch_whose_test_fails_is_the_recorded_422()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/shop/web:1.1"));
        var patch = JsonNode.Parse("""[{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"abc"},{"op":"replace","path":"/spec/paused","value":false}]""");
        var (status, body) = await cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/web", patch, "application/json-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        AssertJsonEqual(Fixtures.Json("api/json-patch-test-failed.json"), body);

        var (getStatus, unchanged) = await cluster.SendAsync(HttpMethod.Get, "/apis/apps/v1/namespaces/shop/deployments/web");
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Null(unchanged!["spec"]!["paused"]);
    }

    [Fact]
    public async Task Exact_list_at_a_compacted_resourceVersion_is_the_recorded_410()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNamespaceAsync("shop");
        var created = await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/shop/web:1.1"));
        var old = created["metadata"]!["resourceVersion"]!.GetValue<string>();
        await cluster.SendAsync(HttpMethod.Put, "/apis/apps/v1/namespaces/shop/deployments/web", Relabel(created, "v", "1"));
        cluster.Cluster.Store.Compact();

        var (status, body) = await cluster.SendAsync(HttpMethod.Get, $"/apis/apps/v1/namespaces/shop/deployments?resourceVersion={old}&resourceVersionMatch=Exact");
        Assert.Equal(HttpStatusCode.Gone, status);
        AssertJsonEqual(Fixtures.Json("api/list-expired-410.json"), body);
    }

    [Fact]
    public async Task Watch_from_a_compacted_resourceVersion_is_the_recorded_410_event()
    {
        await using var cluster = await TestCluster.StartAsync(new() { RunControllers = false, WatchHistorySize = 3 });
        await cluster.CreateNamespaceAsync("shop");
        var created = await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/shop/web:1.1"));
        var old = created["metadata"]!["resourceVersion"]!.GetValue<string>();
        for (var i = 0; i < 5; i++)
        {
            await cluster.CreateAsync("/api/v1/namespaces/shop/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = $"s{i}" } });
        }

        using var response = await cluster.Http.GetAsync($"/apis/apps/v1/namespaces/shop/deployments?watch=true&resourceVersion={old}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = Fixtures.Lines("api/watch-expired-410.jsonl");
        Assert.Equal(expected.Count, lines.Length);
        AssertJsonEqual(expected[0], JsonNode.Parse(lines[0]));
    }

    [Fact]
    public async Task Get_deployment_has_the_recorded_defaults_and_shape()
    {
        var recorded = Fixtures.Json("api/get-deployment.json");
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNamespaceAsync("shop");
        var minimal = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = "web", ["labels"] = recorded["metadata"]!["labels"]!.DeepClone() },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 2,
                ["selector"] = recorded["spec"]!["selector"]!.DeepClone(),
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "web" } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "web", ["image"] = "registry.local/shop/web:1.1" }) },
                },
            },
        };
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", minimal);
        var (status, body) = await cluster.SendAsync(HttpMethod.Get, "/apis/apps/v1/namespaces/shop/deployments/web");

        Assert.Equal(HttpStatusCode.OK, status);
        AssertJsonEqual(recorded["spec"], body!["spec"]);
        Assert.Equal(TopLevelKeys(recorded), TopLevelKeys(body.AsObject()));
        var expectedMetadata = recorded["metadata"]!.AsObject().Select(p => p.Key).Where(k => k is not ("managedFields" or "annotations")).Order(StringComparer.Ordinal);
        Assert.Equal(expectedMetadata, body["metadata"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(1, body["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task List_with_limit_is_shaped_like_the_recording_and_continues()
    {
        var recorded = Fixtures.Json("api/list-deployments-limit1.json");
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/shop/web:1.1"));
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "registry.local/shop/api:1.0"));

        var (status, first) = await cluster.SendAsync(HttpMethod.Get, "/apis/apps/v1/namespaces/shop/deployments?limit=1");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(recorded["kind"]!.GetValue<string>(), first!["kind"]!.GetValue<string>());
        Assert.Equal(recorded["apiVersion"]!.GetValue<string>(), first["apiVersion"]!.GetValue<string>());
        var item = first["items"]!.AsArray().Single()!.AsObject();
        Assert.Equal(TopLevelKeys(recorded["items"]![0]!.AsObject()), TopLevelKeys(item));
        Assert.Equal("api", item["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(1, first["metadata"]!["remainingItemCount"]!.GetValue<long>());

        var token = Uri.EscapeDataString(first["metadata"]!["continue"]!.GetValue<string>());
        var (_, second) = await cluster.SendAsync(HttpMethod.Get, $"/apis/apps/v1/namespaces/shop/deployments?limit=1&continue={token}");
        Assert.Equal("web", second!["items"]!.AsArray().Single()!["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(second["metadata"]!["continue"]);
        Assert.Equal(first["metadata"]!["resourceVersion"]!.GetValue<string>(), second["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_stream_is_framed_like_the_recording()
    {
        var recorded = Fixtures.Lines("api/watch-deployments-stream.jsonl");
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateNamespaceAsync("shop");
        var created = await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/shop/web:1.1"));
        var from = created["metadata"]!["resourceVersion"]!.GetValue<string>();
        var patch = JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.local/shop/web:1.2"}]}}}}""");
        var (patched, _) = await cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/web", patch, "application/strategic-merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, patched);

        using var response = await cluster.Http.GetAsync($"/apis/apps/v1/namespaces/shop/deployments?watch=1&resourceVersion={from}&timeoutSeconds=1", TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var events = lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

        var expected = recorded[0];
        var actual = Assert.Single(events);
        Assert.Equal(TopLevelKeys(expected), TopLevelKeys(actual));
        Assert.Equal(expected["type"]!.GetValue<string>(), actual["type"]!.GetValue<string>());
        Assert.Equal(TopLevelKeys(expected["object"]!.AsObject()), TopLevelKeys(actual["object"]!.AsObject()));
        Assert.Equal("Deployment", actual["object"]!["kind"]!.GetValue<string>());
        Assert.Equal(2, actual["object"]!["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal("registry.local/shop/web:1.2", actual["object"]!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
    }

    private static JsonObject Relabel(JsonObject obj, string key, string value)
    {
        var copy = (JsonObject)obj.DeepClone();
        copy["metadata"]!["labels"]![key] = value;
        return copy;
    }

    private static List<string> TopLevelKeys(JsonObject obj) => obj.Select(p => p.Key).Order(StringComparer.Ordinal).ToList();

    internal static void AssertJsonEqual(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected?.ToJsonString()}\nactual   {actual?.ToJsonString()}");
}
