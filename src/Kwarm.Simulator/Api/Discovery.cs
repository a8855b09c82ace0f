using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>The legacy (non-aggregated) discovery documents kubectl and client libraries read.</summary>
public static class Discovery
{
    private static readonly string[] ObjectVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    private static readonly string[] SubresourceVerbs = ["get", "patch", "update"];

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0-kwarm-simulator",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2026-01-01T00:00:00Z",
        ["goVersion"] = "go1.23.0",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject Groups(ResourceCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var groups = new JsonArray();
        foreach (var name in catalog.GroupVersions().Select(g => g.Group).Where(g => g.Length > 0).Distinct())
        {
            groups.Add(GroupEntry(catalog, name));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public static JsonObject Group(ResourceCatalog catalog, string group)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!catalog.GroupVersions().Any(g => g.Group == group))
        {
            throw new ApiException(404, "NotFound", "the server could not find the requested resource");
        }

        var entry = GroupEntry(catalog, group);
        entry["kind"] = "APIGroup";
        entry["apiVersion"] = "v1";
        return entry;
    }

    private static JsonObject GroupEntry(ResourceCatalog catalog, string group)
    {
        var versions = catalog.GroupVersions().Where(g => g.Group == group).Select(g => g.Version).ToList();
        var preferred = catalog.All.FirstOrDefault(t => t.Group == group)?.Version ?? versions[0];
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray([.. versions.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v })]),
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{preferred}", ["version"] = preferred },
        };
    }

    public static JsonObject ResourceList(ResourceCatalog catalog, string group, string version)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var types = catalog.InGroupVersion(group, version);
        if (types.Count == 0)
        {
            throw new ApiException(404, "NotFound", "the server could not find the requested resource");
        }

        var resources = new JsonArray();
        foreach (var type in types)
        {
            var entry = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray([.. ObjectVerbs.Select(v => (JsonNode)v)]),
            };
            if (type.ShortNames.Count > 0)
            {
                entry["shortNames"] = new JsonArray([.. type.ShortNames.Select(s => (JsonNode)s)]);
            }

            if (type.Categories.Count > 0)
            {
                entry["categories"] = new JsonArray([.. type.Categories.Select(s => (JsonNode)s)]);
            }

            resources.Add(entry);
            if (type.HasScale)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = $"{type.Plural}/scale",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["group"] = "autoscaling",
                    ["version"] = "v1",
                    ["kind"] = "Scale",
                    ["verbs"] = new JsonArray([.. SubresourceVerbs.Select(v => (JsonNode)v)]),
                });
            }

            if (type.StorageKey == "pods")
            {
                resources.Add(new JsonObject
                {
                    ["name"] = "pods/eviction",
                    ["singularName"] = "",
                    ["namespaced"] = true,
                    ["group"] = "policy",
                    ["version"] = "v1",
                    ["kind"] = "Eviction",
                    ["verbs"] = new JsonArray("create"),
                });
            }

            if (type.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = $"{type.Plural}/status",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["kind"] = type.Kind,
                    ["verbs"] = new JsonArray([.. SubresourceVerbs.Select(v => (JsonNode)v)]),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }
}
