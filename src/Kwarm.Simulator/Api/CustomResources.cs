using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>Turns a CustomResourceDefinition into the resource it defines.</summary>
public static class CustomResources
{
    public static ResourceType? FromDefinition(JsonObject crd)
    {
        ArgumentNullException.ThrowIfNull(crd);
        var spec = crd["spec"] as JsonObject;
        var group = spec.Str("group");
        var plural = spec.Str("names", "plural");
        var kind = spec.Str("names", "kind");
        if (group is null || plural is null || kind is null)
        {
            return null;
        }

        var versions = spec.Objects("versions").Where(v => v.Bool("served") != false).ToList();
        if (versions.Count == 0)
        {
            return null;
        }

        var storage = versions.FirstOrDefault(v => v.Bool("storage") == true) ?? versions[0];
        var shortNames = spec.At("names", "shortNames") is JsonArray names ? names.Select(n => n?.ToString() ?? "").ToArray() : [];
        var categories = spec.At("names", "categories") is JsonArray cats ? cats.Select(n => n?.ToString() ?? "").ToArray() : [];
        var columns = storage.Objects("additionalPrinterColumns")
            .Select(c => new PrinterColumn(c.Str("name") ?? "", c.Str("type") ?? "string", c.Str("jsonPath") ?? "", c.Str("description"), (int)(c.Long("priority") ?? 0)))
            .ToList();
        return new ResourceType(
            group,
            storage.Str("name") ?? "v1",
            plural,
            kind,
            spec.Str("scope") != "Cluster",
            shortNames,
            HasStatus: storage.At("subresources", "status") is not null,
            HasScale: false,
            StrategicMerge: false)
        {
            Versions = [.. versions.Select(v => v.Str("name") ?? "v1")],
            Schema = storage.At("schema", "openAPIV3Schema") as JsonObject,
            PrinterColumns = columns,
            Categories = categories,
            TracksGeneration = true,
        };
    }
}
