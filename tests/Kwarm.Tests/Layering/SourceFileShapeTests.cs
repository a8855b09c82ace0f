using System.Text.RegularExpressions;
using Kwarm.Tests.Resources;

namespace Kwarm.Tests.Layering;

/// <summary>
/// Every source file under <c>src/</c> declares at most one public type and stays within 600 lines, so a type is found by
/// its file name and no file grows into several jobs. Sources use file-scoped namespaces, so a top-level declaration is
/// one that starts at column 0; nested and non-public types are not counted.
/// </summary>
public sealed partial class SourceFileShapeTests
{
    public const int MaxLines = 600;

    [Fact]
    public void No_source_file_declares_more_than_one_public_type()
    {
        var offenders = SourceFiles()
            .Select(file => (file.Path, Types: PublicTopLevelTypes(File.ReadAllText(file.FullPath))))
            .Where(file => file.Types.Count > 1)
            .Select(file => $"{file.Path} ({string.Join(", ", file.Types)})")
            .ToList();

        Assert.True(offenders.Count == 0, "one public type per file; these declare more:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void No_source_file_is_longer_than_600_lines()
    {
        var offenders = SourceFiles()
            .Select(file => (file.Path, Lines: File.ReadAllLines(file.FullPath).Length))
            .Where(file => file.Lines > MaxLines)
            .Select(file => $"{file.Path} ({file.Lines} lines)")
            .ToList();

        Assert.True(offenders.Count == 0, $"at most {MaxLines} lines per file; these are longer:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_scan_sees_the_sources_and_counts_only_public_top_level_types()
    {
        // Guards the two checks above against passing because they read nothing or match nothing.
        Assert.Contains(SourceFiles(), file => file.Path == "src/Kwarm/Hosting/KwarmHost.cs");
        Assert.DoesNotContain(SourceFiles(), file => file.Path.Contains("/obj/", StringComparison.Ordinal));
        const string source = """
            namespace Sample;

            /// <summary>Doc.</summary>
            public sealed record Launch(int ExitCode);

            public static partial class Host
            {
                public sealed class Nested;
            }

            internal sealed class Helper;

            public readonly record struct Point(int X, int Y);
            """;

        Assert.Equal(["Launch", "Host", "Point"], PublicTopLevelTypes(source));
    }

    /// <summary>The names of the public types declared at column 0.</summary>
    internal static List<string> PublicTopLevelTypes(string source) =>
        [.. TopLevelPublicType().Matches(source).Select(match => match.Groups["name"].Value)];

    /// <summary>Every <c>src/**/*.cs</c> but build output and the folders not yet checked, by repository-relative path.</summary>
    private static List<(string Path, string FullPath)> SourceFiles()
    {
        var root = RepositoryFiles.Root;
        return Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Select(fullPath => (Path: Path.GetRelativePath(root, fullPath).Replace('\\', '/'), FullPath: fullPath))
            .Where(file => !file.Path.Contains("/obj/", StringComparison.Ordinal) && !file.Path.Contains("/bin/", StringComparison.Ordinal))
            .OrderBy(file => file.Path, StringComparer.Ordinal)
            .ToList();
    }

    [GeneratedRegex(@"^public\s+(?:(?:static|sealed|abstract|partial|readonly|ref|unsafe|file|record)\s+)*(?:class|record|struct|interface|enum|delegate\s+\S+)\s+(?<name>[A-Za-z_][A-Za-z0-9_]*)", RegexOptions.Multiline)]
    private static partial Regex TopLevelPublicType();
}
