using System.Diagnostics;

namespace Kwarm.Tests.Hosting;

/// <summary>The built Kwarm.dll run as its own process, as a container or a user runs it.</summary>
public sealed class KwarmProcessTests
{
    [Fact]
    public async Task Malformed_flag_value_exits_2_with_one_line_on_stderr()
    {
        var result = await RunKwarmAsync(["--max-concurrent-pulls", "abc"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kwarm: invalid --max-concurrent-pulls \"abc\": expected an integer from 1 to 1000\n", result.Stderr);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Malformed_environment_variable_exits_2_naming_flag_and_variable()
    {
        var result = await RunKwarmAsync([], new Dictionary<string, string> { ["KWARM_FINISHED_PREPULLIMAGE_TTL"] = "an hour" });

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("kwarm: invalid --finished-prepullimage-ttl \"an hour\" from KWARM_FINISHED_PREPULLIMAGE_TTL: expected a positive Go duration such as 1h or 90m\n", result.Stderr);
    }

    [Fact]
    public async Task Help_exits_0_and_prints_the_flags()
    {
        var result = await RunKwarmAsync(["--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("Usage: kwarm [flags]", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--webhook-cert-dir", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    private sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

    private static async Task<ProcessResult> RunKwarmAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kwarm.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Whatever the machine running the tests has set must not leak into Kwarm's settings.
        foreach (var inherited in start.Environment.Keys.Where(key => key.StartsWith("KWARM_", StringComparison.Ordinal) || key == "KUBERNETES_SERVICE_HOST").ToList())
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
