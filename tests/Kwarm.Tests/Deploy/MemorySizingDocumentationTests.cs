using System.Globalization;
using System.Text.RegularExpressions;
using Kwarm.Kubernetes;
using Kwarm.Tests.Admission;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// docs/install.md's "Memory" section against the code: the sizing table is <see cref="CacheMemoryEstimate"/>'s
/// projection, and the quoted warning is what Kwarm logs, so refreshing <see cref="CacheMemoryCoefficients"/> fails
/// here until the page is updated with it.
/// </summary>
public sealed partial class MemorySizingDocumentationTests
{
    private static string InstallPath => Manifests.InRepository("docs", "install.md");

    [Fact]
    public void Sizing_table_is_the_projection_of_the_code()
    {
        var rows = MarkdownTable.Under(InstallPath, "### Sizing table");

        Assert.NotEmpty(rows);
        foreach (var row in rows)
        {
            var estimate = new CacheMemoryEstimate(Count(row[0]), Count(row[1]));
            Assert.Equal($"{(long)Math.Ceiling(estimate.ProjectedMiB)} MiB", row[2]);
            Assert.Equal($"{estimate.SmallestLimitMiB}Mi", row[3]);
        }
    }

    [Fact]
    public void Quoted_warning_is_what_Kwarm_logs()
    {
        var install = Whitespace().Replace(File.ReadAllText(InstallPath), " ");
        using var logs = new RecordingLoggerProvider();

        CacheMemoryCheck.Report(logs.CreateLogger<CacheMemoryCheck>(), new CacheMemoryEstimate(5000, 25000), 256L * 1024 * 1024, "/sys/fs/cgroup");

        Assert.Contains($"`{Assert.Single(logs.Entries).Message}`", install, StringComparison.Ordinal);
    }

    private static int Count(string cell) => int.Parse(cell, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
