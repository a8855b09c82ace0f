using System.ComponentModel;
using System.Diagnostics;

namespace Kwarm.Tests.Noop;

/// <summary>What a finished child process left behind.</summary>
internal sealed record ProcessRun(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>A guard against a hung child, not a speed assertion: every run here takes milliseconds.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);

    public override string ToString() =>
        $"exit {ExitCode}; stdout: \"{StandardOutput}\"; stderr: \"{StandardError}\"";

    public static async Task<ProcessRun> StartAsync(
        string fileName, IEnumerable<string> arguments, string? workingDirectory, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start {fileName}: {e.Message}", e);
        }

        process.StandardInput.Close();
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        guard.CancelAfter(HangGuard);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(guard.Token);
            var error = process.StandardError.ReadToEndAsync(guard.Token);
            await process.WaitForExitAsync(guard.Token);
            return new ProcessRun(process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', startInfo.ArgumentList)} did not finish within {HangGuard}");
        }
    }

    /// <summary>Finds an executable on PATH, as the shell would.</summary>
    public static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
    }
}
