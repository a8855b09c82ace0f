using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Kwarm.Simulator.Tests;

/// <summary>The simulator run by hand (<c>dotnet run --project src/Kwarm.Simulator</c>) as its own process.</summary>
public sealed class StandaloneProcessTests
{
    /// <summary>A service manager, a test harness or <c>kill</c> stops it with SIGTERM: it stops cleanly and exits 0.</summary>
    [Fact]
    public async Task Sigterm_stops_the_simulator_cleanly()
    {
        var directory = Directory.CreateTempSubdirectory("kwarm-sim-process-").FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "Kwarm.Simulator.dll"), "--nodes", "1", "--kubeconfig-out", Path.Combine(directory, "kubeconfig")])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        try
        {
            var lines = new ConcurrentQueue<string>();
            var reader = ReadLinesAsync(process.StandardOutput, lines);
            var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await Eventually.WaitUntilAsync(() => lines.Contains("Press Ctrl+C to stop.") || process.HasExited, "the simulator listening", TimeSpan.FromSeconds(60));
            if (process.HasExited)
            {
                Assert.Fail($"the simulator exited at start with {process.ExitCode}: {await errors}");
            }

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(limit.Token);
            await reader;
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await errors}");
            Assert.Equal("stopping", lines.Last());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task ReadLinesAsync(StreamReader output, ConcurrentQueue<string> lines)
    {
        while (await output.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
        {
            lines.Enqueue(line);
        }
    }
}
