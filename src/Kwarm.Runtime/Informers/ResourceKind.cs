namespace Kwarm.Runtime;

/// <summary>Where a resource type lives in the REST API. Core types have an empty group.</summary>
public sealed record ResourceKind(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Relative URI of the collection, across all namespaces when <paramref name="namespace"/> is null.</summary>
    public string CollectionPath(string? @namespace)
    {
        var root = Group.Length == 0 ? $"api/{Version}" : $"apis/{Group}/{Version}";
        return Namespaced && !string.IsNullOrEmpty(@namespace)
            ? $"{root}/namespaces/{Uri.EscapeDataString(@namespace)}/{Plural}"
            : $"{root}/{Plural}";
    }
}
