using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>API behaviour beyond the recorded fixtures: auth, selectors, watches, finalizers, discovery, printing.</summary>
public sealed class ApiServerTests
{
    [Fact]
    public async Task Requests_without_the_token_are_401()
    {
        await using var cluster = await TestCluster.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using var response = await cluster.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_status_not_a_crash()
    {
        await using var cluster = await TestCluster.StartAsync();
        using var content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        using var response = await cluster.Http.PostAsync("/api/v1/namespaces/default/pods", content, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal("BadRequest", status["reason"]!.GetValue<string>());

        var (missingNs, body) = await cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces/nowhere/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "s" } });
        Assert.Equal(HttpStatusCode.NotFound, missingNs);
        Assert.Equal("namespaces \"nowhere\" not found", body!["message"]!.GetValue<string>());

        var (exists, dup) = await cluster.SendAsync(HttpMethod.Post, "/api/v1/namespaces", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } });
        Assert.Equal(HttpStatusCode.Conflict, exists);
        Assert.Equal("AlreadyExists", dup!["reason"]!.GetValue<string>());

        var (invalid, why) = await cluster.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/default/deployments", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "d" }, ["spec"] = new JsonObject() });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid);
        Assert.StartsWith("Deployment.apps \"d\" is invalid", why!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var (unknown, _) = await cluster.SendAsync(HttpMethod.Get, "/apis/nothing.io/v1/things");
        Assert.Equal(HttpStatusCode.NotFound, unknown);

        await cluster.CreateAsync("/api/v1/namespaces/default/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "a" } });
        await cluster.CreateAsync("/api/v1/namespaces/default/secrets", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "b" } });
        var (renamed, _) = await cluster.SendAsync(HttpMethod.Patch, "/api/v1/namespaces/default/secrets/a", JsonNode.Parse("""{"metadata":{"name":"b"}}"""), "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, renamed);
        var (moved, _) = await cluster.SendAsync(HttpMethod.Put, "/api/v1/namespaces/default/secrets/a", JsonNode.Parse("""{"metadata":{"name":"a","namespace":"kube-system"}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, moved);
        var (badPatch, _) = await cluster.SendAsync(HttpMethod.Patch, "/api/v1/namespaces/default/secrets/a", JsonNode.Parse("""[{"op":"replace","path":"","value":7}]"""), "application/json-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badPatch);
    }

    [Fact]
    public async Task Generate_name_finalizers_and_deletion_timestamp()
    {
        await using var cluster = await TestCluster.StartAsync();
        var created = await cluster.CreateAsync("/api/v1/namespaces/default/secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["generateName"] = "held-", ["finalizers"] = new JsonArray("kwarm.io/cleanup") },
        });
        var name = created["metadata"]!["name"]!.GetValue<string>();
        Assert.StartsWith("held-", name, StringComparison.Ordinal);
        Assert.Equal(10, name.Length);
        Assert.NotNull(created["metadata"]!["uid"]);
        Assert.NotNull(created["metadata"]!["creationTimestamp"]);

        // 200, not 202, although the finalizer keeps it: measured on a real v1.24 server.
        var (answered, deleting) = await cluster.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/default/secrets/{name}");
        Assert.Equal(HttpStatusCode.OK, answered);
        Assert.NotNull(deleting!["metadata"]!["deletionTimestamp"]);
        var (stillThere, _) = await cluster.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/default/secrets/{name}");
        Assert.Equal(HttpStatusCode.OK, stillThere);

        var (patched, _) = await cluster.SendAsync(HttpMethod.Patch, $"/api/v1/namespaces/default/secrets/{name}", JsonNode.Parse("""{"metadata":{"finalizers":null}}"""), "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, patched);
        var (gone, _) = await cluster.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/default/secrets/{name}");
        Assert.Equal(HttpStatusCode.NotFound, gone);
    }

    [Fact]
    public async Task Status_subresource_is_separate_from_the_spec()
    {
        await using var cluster = await TestCluster.StartAsync();
        var created = await cluster.CreateAsync("/apis/apps/v1/namespaces/default/deployments", TestCluster.Deployment("d", "default", "x:1"));
        var withStatus = (JsonObject)created.DeepClone();
        withStatus["status"] = JsonNode.Parse("""{"replicas":7}""");
        withStatus["spec"]!["replicas"] = 5;
        var (_, main) = await cluster.SendAsync(HttpMethod.Put, "/apis/apps/v1/namespaces/default/deployments/d", withStatus);
        Assert.Equal(5, main!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Null(main["status"]!["replicas"]);
        Assert.Equal(2, main["metadata"]!["generation"]!.GetValue<long>());

        var (_, status) = await cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/default/deployments/d/status", JsonNode.Parse("""{"spec":{"replicas":1},"status":{"replicas":7}}"""), "application/merge-patch+json");
        Assert.Equal(7, status!["status"]!["replicas"]!.GetValue<long>());
        Assert.Equal(5, status["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal(2, status["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task Field_and_label_selectors_filter_lists_and_watches()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { TimeFactor = 0.01 });
        cluster.Cluster.AddNodes([new NodeSpec("n1"), new NodeSpec("n2") { Labels = new Dictionary<string, string> { ["pool"] = "b" } }]);
        await cluster.CreateAsync("/api/v1/namespaces/default/pods", ControllerTests.Pod("on-n2", JsonNode.Parse("""{"nodeSelector":{"pool":"b"}}""")));
        // Wait for the pod's last status change (Ready) so that only the label patches below change it.
        await Eventually.WaitUntilAsync(() => cluster.Get("", "pods", "default", "on-n2")?.Objects("status", "conditions").Any(c => c.Str("type") == "Ready" && c.Str("status") == "True") == true, "pod ready");

        var (_, list) = await cluster.SendAsync(HttpMethod.Get, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn2,status.phase%3DRunning");
        Assert.Equal("on-n2", list!["items"]!.AsArray().Single()!["metadata"]!["name"]!.GetValue<string>());
        var (_, none) = await cluster.SendAsync(HttpMethod.Get, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1");
        Assert.Empty(none!["items"]!.AsArray());
        var (_, nodes) = await cluster.SendAsync(HttpMethod.Get, "/api/v1/nodes?labelSelector=pool%20in%20(a,b)");
        Assert.Equal("n2", nodes!["items"]!.AsArray().Single()!["metadata"]!["name"]!.GetValue<string>());

        // A label change moving an object out of a watch's selector is a DELETED event for that watch.
        var rv = list["metadata"]!["resourceVersion"]!.GetValue<string>();
        await cluster.SendAsync(HttpMethod.Patch, "/api/v1/namespaces/default/pods/on-n2", JsonNode.Parse("""{"metadata":{"labels":{"x":"1"}}}"""), "application/merge-patch+json");
        await cluster.SendAsync(HttpMethod.Patch, "/api/v1/namespaces/default/pods/on-n2", JsonNode.Parse("""{"metadata":{"labels":{"x":"2"}}}"""), "application/merge-patch+json");
        using var response = await cluster.Http.GetAsync($"/api/v1/namespaces/default/pods?watch=true&labelSelector=x%3D1&resourceVersion={rv}&timeoutSeconds=1", TestContext.Current.CancellationToken);
        var events = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!["type"]!.GetValue<string>());
        Assert.Equal(["ADDED", "DELETED"], events);
    }

    [Fact]
    public async Task Watch_sends_bookmarks_when_asked()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { RunControllers = false, BookmarkInterval = TimeSpan.FromMilliseconds(100) });
        var rv = cluster.Cluster.Store.CurrentResourceVersion;
        using var response = await cluster.Http.GetAsync($"/api/v1/namespaces/default/secrets?watch=true&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=1", TestContext.Current.CancellationToken);
        var lines = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal("BOOKMARK", l["type"]!.GetValue<string>()));
        Assert.Equal("Secret", lines[0]["object"]!["kind"]!.GetValue<string>());
        Assert.Equal(rv.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[0]["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Disposing_the_cluster_ends_open_watches_promptly()
    {
        var cluster = await TestCluster.StartAsync();
        var watch = cluster.Http.GetAsync("/api/v1/namespaces/default/secrets?watch=true", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var response = await watch;
        var reading = response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var started = DateTime.UtcNow;
        await cluster.DisposeAsync();
        await reading.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "an open watch must not hold the shutdown");
    }

    [Fact]
    public async Task Discovery_lists_resources_with_subresources_and_crds_appear()
    {
        await using var cluster = await TestCluster.StartAsync();
        var (_, apps) = await cluster.SendAsync(HttpMethod.Get, "/apis/apps/v1");
        var names = apps!["resources"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("deployments/scale", names);
        Assert.Contains("deployments/status", names);

        await cluster.CreateAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", JsonNode.Parse("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.io"},
             "spec":{"group":"example.io","scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget"},
                     "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}
            """)!.AsObject());
        var (_, groups) = await cluster.SendAsync(HttpMethod.Get, "/apis");
        Assert.Contains(groups!["groups"]!.AsArray(), g => g!["name"]!.GetValue<string>() == "example.io");
        var (_, crd) = await cluster.SendAsync(HttpMethod.Get, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.io");
        Assert.Contains(crd!["status"]!["conditions"]!.AsArray(), c => c!["type"]!.GetValue<string>() == "Established" && c["status"]!.GetValue<string>() == "True");
        var (_, openapi) = await cluster.SendAsync(HttpMethod.Get, "/openapi/v3");
        Assert.NotNull(openapi!["paths"]!["apis/example.io/v1"]);

        await cluster.SendAsync(HttpMethod.Delete, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.io");
        var (gone, _) = await cluster.SendAsync(HttpMethod.Get, "/apis/example.io/v1/namespaces/default/widgets");
        Assert.Equal(HttpStatusCode.NotFound, gone);
    }

    [Fact]
    public async Task Server_side_apply_accepts_yaml_creates_then_updates()
    {
        await using var cluster = await TestCluster.StartAsync();
        const string Applied = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: default
            data:
              mode: "blue"
              replicas: "3"
            """;
        var (created, body) = await SendTextAsync(cluster, HttpMethod.Patch, "/api/v1/namespaces/default/configmaps/settings?fieldManager=argocd-controller", Applied, "application/apply-patch+yaml");
        Assert.True(created == HttpStatusCode.Created, body?.ToJsonString());
        Assert.Equal("3", body!["data"]!["replicas"]!.GetValue<string>());

        var (updated, changed) = await SendTextAsync(cluster, HttpMethod.Patch, "/api/v1/namespaces/default/configmaps/settings?fieldManager=argocd-controller", Applied.Replace("blue", "green", StringComparison.Ordinal), "application/apply-patch+yaml");
        Assert.Equal(HttpStatusCode.OK, updated);
        Assert.Equal("green", changed!["data"]!["mode"]!.GetValue<string>());

        var (bad, _) = await SendTextAsync(cluster, HttpMethod.Patch, "/api/v1/namespaces/default/configmaps/settings", "data: [unclosed", "application/apply-patch+yaml");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendTextAsync(TestCluster cluster, HttpMethod method, string path, string text, string contentType)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(text) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await cluster.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, body.Length == 0 ? null : JsonNode.Parse(body));
    }

    [Fact]
    public async Task Tables_are_served_when_asked_for()
    {
        await using var cluster = await TestCluster.StartAsync();
        await cluster.CreateAsync("/apis/apps/v1/namespaces/default/deployments", TestCluster.Deployment("d", "default", "x:1"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/apis/apps/v1/namespaces/default/deployments");
        request.Headers.Accept.ParseAdd("application/json;as=Table;v=v1;g=meta.k8s.io");
        using var response = await cluster.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var table = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("Table", table["kind"]!.GetValue<string>());
        Assert.Equal(["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"], table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1], table["columnDefinitions"]!.AsArray().Select(c => c!["priority"]!.GetValue<int>()));
        Assert.Equal("0/2", table["rows"]![0]!["cells"]![1]!.GetValue<string>());
    }
}
