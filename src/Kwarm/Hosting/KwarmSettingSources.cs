namespace Kwarm.Hosting;

/// <summary>Which command-line and environment settings were given, so an error can say where a bad value came from.</summary>
internal sealed record KwarmSettingSources(IReadOnlyDictionary<string, string> CommandLine, IReadOnlyDictionary<string, string> Environment)
{
    public static KwarmSettingSources None { get; } =
        new(new Dictionary<string, string>(StringComparer.Ordinal), new Dictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Nothing for a flag (the error already names it), else the variable or configuration key that set it.</summary>
    public string Origin(KwarmFlag flag) =>
        CommandLine.ContainsKey(flag.Property) ? ""
        : Environment.ContainsKey(flag.Property) ? $" from {flag.EnvironmentVariable}"
        : $" from configuration {flag.ConfigurationKey}";
}
