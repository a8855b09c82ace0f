namespace Kwarm.Hosting;

/// <summary>
/// Binds the <c>Kwarm</c> section with the flags' own parsers (Go durations, bind addresses), which the
/// configuration binder does not know. A malformed value is left at its default here and reported by the validator.
/// </summary>
internal static class KwarmOptionsBinder
{
    public static void Bind(IConfiguration configuration, KwarmOptions options)
    {
        var section = configuration.GetSection(KwarmOptions.SectionName);
        foreach (var flag in KwarmFlags.All)
        {
            if (section[flag.Property] is { } raw)
            {
                flag.TryApply(raw, options);
            }
        }
    }
}
