using System.Diagnostics;
using Kwarm.Local;

namespace Kwarm.Tests.Local;

/// <summary><c>dotnet run --project src/Kwarm.Local -- ...</c> as a process, with no cluster configured: what it prints and how it exits.</summary>
public sealed class RunCommandTests
{
    [Fact]
    public async Task Help_prints_the_usage_and_kwarms_flags_and_exits_0()
    {
        var (exitCode, output, errors) = await RunAsync("--help");

        Assert.True(exitCode == 0, errors);
        Assert.StartsWith(LocalSettings.Usage, output, StringComparison.Ordinal);
        Assert.Contains("--max-concurrent-pulls", output, StringComparison.Ordinal);
        Assert.Equal("", errors);
    }

    [Fact]
    public async Task An_unknown_option_is_one_line_on_stderr_and_exit_2()
    {
        var (exitCode, output, errors) = await RunAsync("--nodse", "3");

        Assert.Equal(2, exitCode);
        Assert.Equal("", output);
        Assert.StartsWith("kwarm: unknown option \"--nodse\"", Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] arguments)
    {
        var home = Directory.CreateTempSubdirectory("kwarm-run-command-");
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kwarm.Local.dll"));
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            // No cluster at hand: no KUBECONFIG and a HOME without ~/.kube/config.
            start.Environment["HOME"] = home.FullName;
            start.Environment.Remove("KUBECONFIG");
            start.Environment.Remove("KWARM_KUBECONFIG");
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var guard = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            guard.CancelAfter(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(guard.Token);
            return (process.ExitCode, await output, await errors);
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }
}
