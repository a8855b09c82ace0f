using System.Text.Json;
using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Kwarm.Tests.Kubernetes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Tests.Runtime;

/// <summary>Reading single watch lines, the recorded ones and those the recordings lack.</summary>
public sealed class KubernetesListWatcherTests
{
    [Fact]
    public void The_recorded_410_error_event_is_read_as_an_expired_status()
    {
        var line = File.ReadAllLines(ApiFixtures.Path("watch-expired-410.jsonl")).Single(l => l.Length > 0);

        var parsed = KubernetesListWatcher<V1Deployment>.ParseEvent(line, KwarmJson.Options, "x", NullLogger.Instance);

        Assert.Equal(WatchEventType.Error, parsed.Type);
        Assert.Null(parsed.Resource);
        Assert.Equal(410, parsed.Status!.Code);
        Assert.Equal("Expired", parsed.Status.Reason);
        Assert.True(ApiErrors.IsExpired(parsed.Status));
    }

    [Fact]
    public void A_recorded_modification_is_read_as_a_typed_object()
    {
        var line = File.ReadAllLines(ApiFixtures.Path("watch-deployments-stream.jsonl"))[0];

        var parsed = KubernetesListWatcher<V1Deployment>.ParseEvent(line, KwarmJson.Options, "x", NullLogger.Instance);

        Assert.Equal(WatchEventType.Modified, parsed.Type);
        Assert.Equal("496", parsed.Resource!.Metadata.ResourceVersion);
        Assert.Equal("registry.local/shop/web:1.2", parsed.Resource.Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public void The_recordings_cut_off_last_line_is_a_json_error()
    {
        var line = File.ReadAllText(ApiFixtures.Path("watch-deployments-stream.jsonl")).Split('\n')[^1];

        Assert.ThrowsAny<JsonException>(() => KubernetesListWatcher<V1Deployment>.ParseEvent(line, KwarmJson.Options, "x", NullLogger.Instance));
    }

    [Fact]
    public void An_event_of_an_unknown_type_is_rejected_with_its_type_named()
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            KubernetesListWatcher<V1Deployment>.ParseEvent("""{"type":"RENAMED","object":{"metadata":{"name":"x"}}}""", KwarmJson.Options, "x", NullLogger.Instance));

        Assert.Contains("RENAMED", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_custom_resource_event_is_read_even_when_the_object_comes_before_the_type()
    {
        const string line = """{"object":{"apiVersion":"kwarm.io/v1alpha1","kind":"PrePullImage","metadata":{"name":"web-abc","namespace":"shop","resourceVersion":"900"},"spec":{"image":"registry.local/shop/web:1.2","nodes":{"names":["node-a"]}},"status":{"phase":"InProgress","summary":{"total":1,"pulling":1}}},"type":"ADDED"}""";

        var parsed = KubernetesListWatcher<PrePullImage>.ParseEvent(line, KwarmJson.Options, "x", NullLogger.Instance);

        Assert.Equal(WatchEventType.Added, parsed.Type);
        Assert.Equal("shop/web-abc", ResourceKeys.For(parsed.Resource!));
        Assert.Equal(PrePullImagePhase.InProgress, parsed.Resource!.Status!.Phase);
        Assert.Equal(["node-a"], parsed.Resource.Spec.Nodes!.Names!);
    }

    [Fact]
    public void A_complete_event_whose_object_does_not_fit_the_type_becomes_a_bookmark_past_it()
    {
        const string line = """{"type":"MODIFIED","object":{"apiVersion":"kwarm.io/v1alpha1","kind":"PrePullImage","metadata":{"name":"odd","namespace":"shop","resourceVersion":"901"},"spec":{"image":"x"},"status":{"phase":"Exploded"}}}""";

        var parsed = KubernetesListWatcher<PrePullImage>.ParseEvent(line, KwarmJson.Options, "prepullimages", NullLogger.Instance);

        Assert.Equal(WatchEventType.Bookmark, parsed.Type);
        Assert.Equal("901", parsed.Resource!.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task A_listed_object_that_does_not_fit_the_type_is_left_out_and_the_rest_is_kept()
    {
        await using var server = new ScriptedApiServer();
        server.ScriptList(new ScriptedResponse.Json(200, """
            {"kind":"PrePullImageList","apiVersion":"kwarm.io/v1alpha1","metadata":{"resourceVersion":"950"},"items":[
              {"metadata":{"name":"odd","namespace":"shop","resourceVersion":"901"},"spec":{"image":"x"},"status":{"phase":"Exploded"}},
              {"metadata":{"name":"web-abc","namespace":"shop","resourceVersion":"902"},"spec":{"image":"registry.local/shop/web:1.2"}}]}
            """));
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = server.BaseUri.ToString() });
        var watcher = new KubernetesListWatcher<PrePullImage>(client, ResourceKinds.PrePullImages, KwarmJson.Options, "shop");

        var page = await watcher.ListAsync(new ListRequest(null, null, 500, null), TestContext.Current.CancellationToken);

        var item = Assert.Single(page.Items);
        Assert.Equal("web-abc", item.Metadata.Name);
        Assert.Equal(("kwarm.io/v1alpha1", "PrePullImage"), (item.ApiVersion, item.Kind));
        Assert.Equal("950", page.ResourceVersion);
        Assert.Null(page.Continue);
        Assert.Equal("/apis/kwarm.io/v1alpha1/namespaces/shop/prepullimages", Assert.Single(server.Requests).Path);
    }

    [Theory]
    [InlineData(null, "apis/apps/v1/deployments")]
    [InlineData("shop", "apis/apps/v1/namespaces/shop/deployments")]
    public void Namespaced_collections_have_an_all_namespaces_and_a_single_namespace_path(string? @namespace, string expected) =>
        Assert.Equal(expected, ResourceKinds.Deployments.CollectionPath(@namespace));

    [Fact]
    public void Cluster_scoped_and_core_collections_use_their_own_roots()
    {
        Assert.Equal("api/v1/nodes", ResourceKinds.Nodes.CollectionPath("ignored"));
        Assert.Equal("api/v1/namespaces/shop/pods", ResourceKinds.Pods.CollectionPath("shop"));
        Assert.Equal("apis/kwarm.io/v1alpha1/prepullpolicies", ResourceKinds.PrePullPolicies.CollectionPath(null));
        Assert.Equal("kwarm.io/v1alpha1", ResourceKinds.PrePullImages.ApiVersion);
        Assert.Equal("v1", ResourceKinds.Pods.ApiVersion);
    }

    [Fact]
    public void Keys_split_back_into_namespace_and_name()
    {
        Assert.Equal(("shop", "web"), ResourceKeys.Split("shop/web"));
        Assert.Equal(((string?)null, "node-a"), ResourceKeys.Split("node-a"));
    }
}
