using k8s.Models;
using Kwarm.Kubernetes;

namespace Kwarm.Tests.Runtime;

public sealed class ResourceCacheTests
{
    [Fact]
    public void Objects_are_keyed_by_namespace_and_name_or_by_name_when_cluster_scoped()
    {
        var pods = new ResourceCache<V1Pod>();
        var nodes = new ResourceCache<V1Node>();
        pods.Upsert(Pod("shop", "web-1", "1"));
        nodes.Upsert(new V1Node { Metadata = new V1ObjectMeta { Name = "node-a", ResourceVersion = "1" } });

        Assert.Equal("web-1", pods.Get("shop/web-1")!.Metadata.Name);
        Assert.Equal("web-1", pods.Get("shop", "web-1")!.Metadata.Name);
        Assert.Null(pods.Get("other", "web-1"));
        Assert.Equal("node-a", nodes.Get("node-a")!.Metadata.Name);
        Assert.Equal("node-a", nodes.Get(null, "node-a")!.Metadata.Name);
    }

    [Fact]
    public void Indexes_follow_updates_and_removals()
    {
        var cache = new ResourceCache<V1Pod>();
        cache.Upsert(Pod("shop", "web-1", "1", labels: new() { ["app"] = "web" }, ownerUid: "rs-1"));
        cache.Upsert(Pod("shop", "web-2", "1", labels: new() { ["app"] = "web" }, ownerUid: "rs-1"));
        cache.Upsert(Pod("bank", "api-1", "1", labels: new() { ["app"] = "api" }, ownerUid: "rs-2"));

        Assert.Equal(["web-1", "web-2"], Names(cache.ListByLabel("app", "web")));
        Assert.Equal(["web-1", "web-2"], Names(cache.ListByOwner("rs-1")));
        Assert.Equal(["api-1"], Names(cache.ListInNamespace("bank")));

        cache.Upsert(Pod("shop", "web-2", "2", labels: new() { ["app"] = "canary" }, ownerUid: "rs-3"));

        Assert.Equal(["web-1"], Names(cache.ListByLabel("app", "web")));
        Assert.Equal(["web-2"], Names(cache.ListByLabel("app", "canary")));
        Assert.Equal(["web-1"], Names(cache.ListByOwner("rs-1")));
        Assert.Equal(["web-2"], Names(cache.ListByOwner("rs-3")));

        var removed = cache.Remove("shop/web-1");

        Assert.Equal("web-1", removed!.Metadata.Name);
        Assert.Empty(cache.ListByLabel("app", "web"));
        Assert.Empty(cache.ListByOwner("rs-1"));
        Assert.Equal(["web-2"], Names(cache.ListInNamespace("shop")));
        Assert.Null(cache.Remove("shop/web-1"));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Replace_reports_deleted_added_and_changed_objects_and_ignores_unchanged_ones()
    {
        var cache = new ResourceCache<V1Pod>();
        cache.Upsert(Pod("shop", "kept", "1", labels: new() { ["app"] = "web" }));
        cache.Upsert(Pod("shop", "changed", "1", labels: new() { ["app"] = "web" }));
        cache.Upsert(Pod("shop", "gone", "1", labels: new() { ["app"] = "web" }));

        var diff = cache.Replace(new Dictionary<string, V1Pod>
        {
            ["shop/kept"] = Pod("shop", "kept", "1", labels: new() { ["app"] = "web" }),
            ["shop/changed"] = Pod("shop", "changed", "7", labels: new() { ["app"] = "api" }),
            ["shop/new"] = Pod("shop", "new", "8"),
        });

        Assert.Equal(["gone"], Names(diff.Deleted));
        Assert.Equal(["new"], Names(diff.Added));
        var (current, previous) = Assert.Single(diff.Updated);
        Assert.Equal(("7", "1"), (current.Metadata.ResourceVersion, previous.Metadata.ResourceVersion));
        Assert.Equal(["changed", "kept", "new"], Names(cache.List()));
        Assert.Equal(["kept"], Names(cache.ListByLabel("app", "web")));
        Assert.Equal(["changed"], Names(cache.ListByLabel("app", "api")));
    }

    private static string[] Names(IEnumerable<V1Pod> pods) => [.. pods.Select(pod => pod.Metadata.Name).Order(StringComparer.Ordinal)];

    private static V1Pod Pod(string @namespace, string name, string resourceVersion, Dictionary<string, string>? labels = null, string? ownerUid = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            NamespaceProperty = @namespace,
            Name = name,
            ResourceVersion = resourceVersion,
            Labels = labels,
            OwnerReferences = ownerUid is null ? null : [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "rs", Uid = ownerUid }],
        },
    };
}
