using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Api;

/// <summary>One REST resource the simulated API server serves.</summary>
public sealed record ResourceType(
    string Group,
    string Version,
    string Plural,
    string Kind,
    bool Namespaced,
    IReadOnlyList<string> ShortNames,
    bool HasStatus = false,
    bool HasScale = false,
    bool StrategicMerge = true)
{
    /// <summary>Served versions (CRDs may serve several; all share one storage).</summary>
    public IReadOnlyList<string> Versions { get; init; } = [Version];

    /// <summary>Defaults from a CRD's structural schema, applied on create and update.</summary>
    public JsonObject? Schema { get; init; }

    /// <summary>additionalPrinterColumns of a CRD (name, type, jsonPath).</summary>
    public IReadOnlyList<PrinterColumn> PrinterColumns { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>Whether metadata.generation is kept (workloads, CRDs, webhook configurations, custom resources).</summary>
    public bool TracksGeneration { get; init; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string ListKind => Kind + "List";

    public string Singular => Kind.ToLowerInvariant();

    /// <summary>The storage identity: one store per group and plural, whatever the version.</summary>
    public string StorageKey => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>How the API server names the resource in error messages ("deployments.apps", "pods").</summary>
    public string QualifiedName => StorageKey;
}
