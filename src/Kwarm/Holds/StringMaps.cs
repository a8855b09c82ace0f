namespace Kwarm.Holds;

/// <summary>Lookups in labels and annotations, which the client models as <see cref="IDictionary{TKey,TValue}"/> (possibly null).</summary>
internal static class StringMaps
{
    public static string? ValueOf(this IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;
}
