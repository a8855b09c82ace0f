using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Simulator.Tests;

public sealed class StoreTests
{
    private static readonly ResourceCatalog Catalog = new();
    private static readonly ResourceType Secrets = Catalog.Get("", "secrets");
    private static readonly ResourceType Deployments = Catalog.Get("apps", "deployments");

    private static JsonObject Secret(string name, string? note = null)
    {
        var secret = new JsonObject { ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "ns" } };
        if (note is not null)
        {
            secret["metadata"]!["annotations"] = new JsonObject { ["note"] = note };
        }

        return secret;
    }

    [Fact]
    public void Create_stamps_server_fields_from_the_injected_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 18, 9, 48, TimeSpan.Zero));
        var store = new ObjectStore(time, 100);
        var stored = store.Create(Deployments, TestCluster.Deployment("web", "ns", "x:1"));
        var node = stored.ToNode();
        Assert.Equal("2026-11-24T18:09:48Z", node.Str("metadata", "creationTimestamp"));
        Assert.Equal(1, node.Long("metadata", "generation"));
        Assert.Equal(stored.ResourceVersion, store.CurrentResourceVersion);
        Assert.Null(store.Create(Secrets, Secret("s")).ToNode().At("metadata", "generation"));
    }

    [Fact]
    public void List_items_drop_kind_and_apiVersion_and_nothing_else()
    {
        var store = new ObjectStore(TimeProvider.System, 100);
        var stored = store.Create(Secrets, Secret("s", "a \"quoted\" <b> é \\ line\nbreak"));
        var item = JsonNode.Parse(stored.ListItemJson().Span)!;
        var expected = stored.ToNode();
        expected.Remove("kind");
        expected.Remove("apiVersion");
        FixtureFidelityTests.AssertJsonEqual(expected, item);
    }

    [Fact]
    public void Objects_over_etcds_limit_are_refused_like_a_real_cluster()
    {
        var store = new ObjectStore(TimeProvider.System, 100);
        var before = store.CurrentResourceVersion;
        var big = Secret("big", new string('x', ObjectStore.MaxObjectBytes));
        var error = Assert.Throws<ApiException>(() => store.Create(Secrets, big));
        Assert.Equal(500, error.Code);
        Assert.Equal("etcdserver: request is too large", error.Message);
        Assert.Equal(before, store.CurrentResourceVersion);
        Assert.Null(store.Get(Secrets, "ns", "big"));
    }

    [Fact]
    public void Watch_replays_history_after_a_version_and_expires_compacted_ones()
    {
        var store = new ObjectStore(TimeProvider.System, 2);
        var first = store.Create(Secrets, Secret("a"));
        store.Create(Secrets, Secret("b"));
        store.Create(Secrets, Secret("c"));

        using (var watch = store.Watch(Secrets, "ns", first.ResourceVersion + 1))
        {
            Assert.True(watch.Events.TryRead(out var only));
            Assert.Equal("c", only.Object.Name);
            Assert.False(watch.Events.TryRead(out _));
        }

        var expired = Assert.Throws<ApiException>(() => store.Watch(Secrets, "ns", first.ResourceVersion - 1));
        Assert.Equal(410, expired.Code);
        using var fromScratch = store.Watch(Secrets, "ns", null);
        var names = new List<string>();
        while (fromScratch.Events.TryRead(out var e))
        {
            Assert.Equal(WatchEventType.Added, e.Type);
            names.Add(e.Object.Name);
        }

        Assert.Equal(["a", "b", "c"], names);
    }

    [Fact]
    public void Update_with_a_stale_version_conflicts_and_generation_follows_the_spec()
    {
        var store = new ObjectStore(TimeProvider.System, 100);
        var created = store.Create(Deployments, TestCluster.Deployment("web", "ns", "x:1")).ToNode();
        var relabelled = (JsonObject)created.DeepClone();
        relabelled["metadata"]!["labels"]!["x"] = "y";
        var afterLabel = store.Update(Deployments, relabelled).ToNode();
        Assert.Equal(1, afterLabel.Long("metadata", "generation"));

        var conflict = Assert.Throws<ApiException>(() => store.Update(Deployments, created));
        Assert.Equal("Conflict", conflict.Reason);

        afterLabel["spec"]!["replicas"] = 9;
        Assert.Equal(2, store.Update(Deployments, afterLabel).ToNode().Long("metadata", "generation"));
        Assert.Equal(2, store.Mutate(Deployments, "ns", "web", d => false)!.ToNode().Long("metadata", "generation"));
    }
}
