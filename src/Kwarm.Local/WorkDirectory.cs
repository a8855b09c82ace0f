namespace Kwarm.Local;

/// <summary>
/// A fresh temporary directory (kubeconfig, serving certificate, Kwarm's log) that is removed when disposed, so neither
/// the guided run nor the playground leaves anything behind in the temporary folder.
/// </summary>
public sealed class WorkDirectory(string prefix) : IDisposable
{
    private const int LogTailLines = 30;

    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>Prints the last lines of <paramref name="fileName"/> (Kwarm's log), which the removal is about to delete.</summary>
    public void PrintLogTail(string fileName, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var log = System.IO.Path.Combine(Path, fileName);
        if (!File.Exists(log))
        {
            return;
        }

        var lines = File.ReadAllLines(log);
        output.WriteLine();
        output.WriteLine($"The last {Math.Min(LogTailLines, lines.Length)} lines of Kwarm's log:");
        foreach (var line in lines.TakeLast(LogTailLines))
        {
            output.WriteLine("  " + line);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }
}
