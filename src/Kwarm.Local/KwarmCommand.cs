namespace Kwarm.Local;

/// <summary>How to start Kwarm: the build beside this program under <c>dotnet</c>, or a published native binary.</summary>
/// <remarks>
/// The image ships Kwarm compiled ahead of time (NativeAOT), whose memory is what a cluster sees; the guided run uses
/// the framework-dependent build next to it so that <c>dotnet run</c> needs no native compile. Benchmarks that report
/// memory run the native binary, given with <c>--kwarm PATH</c>.
/// </remarks>
public sealed record KwarmCommand(string FileName, IReadOnlyList<string> LeadingArguments)
{
    /// <summary><c>dotnet Kwarm.dll</c> from this program's own output directory.</summary>
    public static KwarmCommand Built { get; } = new("dotnet", [Path.Combine(AppContext.BaseDirectory, "Kwarm.dll")]);

    /// <summary>A native Kwarm executable, as <c>dotnet publish src/Kwarm -c Release</c> writes it.</summary>
    public static KwarmCommand Native(string path)
    {
        var fullPath = Path.GetFullPath(path);
        return File.Exists(fullPath)
            ? new KwarmCommand(fullPath, [])
            : throw new FileNotFoundException($"no Kwarm binary at {fullPath}: publish one with `dotnet publish src/Kwarm -c Release -o <dir>`", fullPath);
    }

    public override string ToString() => string.Join(' ', [FileName, .. LeadingArguments]);
}
