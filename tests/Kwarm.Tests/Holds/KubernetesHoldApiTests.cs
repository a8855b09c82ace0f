using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Holds;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Tests.Kubernetes;
using Kwarm.Workloads;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Tests.Holds;

/// <summary>The real writer over HTTP: the requests it sends, and how it reads the API server's recorded refusals.</summary>
public sealed class KubernetesHoldApiTests : IAsyncLifetime
{
    private const string AlreadyExists =
        """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"prepullimages.kwarm.io \"web-web-0123\" already exists","reason":"AlreadyExists","details":{"name":"web-web-0123","group":"kwarm.io","kind":"prepullimages"},"code":409}""";

    private readonly ScriptedApiServer _server = new();
    private k8s.Kubernetes _client = null!;
    private KubernetesHoldApi _api = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _server.BaseUri.ToString() });
        _api = new KubernetesHoldApi(_client, new ApiWritePipeline(new ApiWriteOptions(), TimeProvider.System, NullLogger<ApiWritePipeline>.Instance));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task The_release_is_one_JSON_Patch_and_a_failed_test_422_reads_as_refused_without_a_retry()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(422, ApiFixtures.Text("json-patch-test-failed.json")));
        var deployment = HoldWorld.Deployment("web", ["web:2"]);
        deployment.Spec.Paused = true;
        deployment.Metadata.Annotations = new Dictionary<string, string> { [KwarmApi.HoldAnnotation] = "abc", [KwarmApi.PolicyAnnotation] = "default" };
        var patch = HoldReleasePatch.Build(deployment, "abc");

        var applied = await _api.PatchDeploymentAsync("shop", "web", patch, Token);

        Assert.False(applied);
        var request = Assert.Single(_server.Requests);
        Assert.Equal(("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web"), (request.Method, request.Path));
        Assert.Equal(JsonPatchOperation.SerializeToString(patch), request.Body);
    }

    [Fact]
    public async Task An_accepted_release_reads_as_applied()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(200, ApiFixtures.Text("get-deployment.json")));

        Assert.True(await _api.PatchDeploymentAsync("shop", "web", [new JsonPatchOperation("test", "/metadata/annotations/kwarm.io~1hold", "abc")], Token));
    }

    [Fact]
    public async Task Creating_a_PrePullImage_that_already_exists_counts_as_created()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(409, AlreadyExists));
        var image = new PrePullImage
        {
            Metadata = new V1ObjectMeta { Name = "web-web-0123", NamespaceProperty = "shop" },
            Spec = new PrePullImageSpec { Image = "registry.example/web:2" },
        };

        await _api.CreatePrePullImageAsync(image, Token);

        var request = Assert.Single(_server.Requests);
        Assert.Equal(("POST", "/apis/kwarm.io/v1alpha1/namespaces/shop/prepullimages"), (request.Method, request.Path));
        Assert.Equal("registry.example/web:2", JsonNode.Parse(request.Body)!["spec"]!["image"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_duplicate_event_reads_as_not_created_and_a_missing_PrePullImage_as_deleted()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(409, AlreadyExists.Replace("prepullimages", "events", StringComparison.Ordinal)));
        _server.ScriptWrite(new ScriptedResponse.Json(404, ApiFixtures.Text("get-missing-404.json")));
        var hookEvent = HoldEvents.Started(HoldWorld.Deployment("web", ["web:2"]), HoldStart.Of("abc", DateTimeOffset.UtcNow), 1, "default", TimeSpan.FromMinutes(15), DateTime.UtcNow, "kwarm-0");

        Assert.False(await _api.CreateEventAsync(hookEvent, Token));
        await _api.DeletePrePullImageAsync("shop", "gone", Token);

        Assert.Equal(
            [("POST", "/api/v1/namespaces/shop/events"), ("DELETE", "/apis/kwarm.io/v1alpha1/namespaces/shop/prepullimages/gone")],
            _server.Requests.Select(r => (r.Method, r.Path)));
    }

    [Fact]
    public async Task Policy_status_is_a_merge_patch_of_the_status_subresource()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(200, """{"apiVersion":"kwarm.io/v1alpha1","kind":"PrePullPolicy","metadata":{"name":"default"}}"""));

        await _api.PatchPolicyStatusAsync("default", new PrePullPolicyStatus { WatchedDeployments = 4, ActiveHolds = 1 }, Token);

        var request = Assert.Single(_server.Requests);
        Assert.Equal(("PATCH", "/apis/kwarm.io/v1alpha1/prepullpolicies/default/status"), (request.Method, request.Path));
        var status = JsonNode.Parse(request.Body)!["status"]!;
        Assert.Equal((4, 1), (status["watchedDeployments"]!.GetValue<int>(), status["activeHolds"]!.GetValue<int>()));
    }
}
