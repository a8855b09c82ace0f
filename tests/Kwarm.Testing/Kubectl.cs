using System.Diagnostics;

namespace Kwarm.Testing;

/// <summary>
/// The real <c>kubectl</c> (the one on PATH, as the README's Set up asks for), for the steps a person would type,
/// against a cluster's kubeconfig: the simulator's or a real control plane's.
/// </summary>
public sealed class Kubectl(string kubeconfig)
{
    /// <summary>The <c>kubectl</c> on PATH; null when there is none.</summary>
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => System.IO.Path.Combine(directory, "kubectl"))
        .FirstOrDefault(File.Exists);

    private static string Executable => Path
        ?? throw new InvalidOperationException("kubectl is not on PATH: the end-to-end tests run it against the cluster (README, Set up)");

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Error}";
    }

    public Task<Result> RunAsync(params string[] args) => RunAsync(TimeSpan.FromSeconds(60), args);

    /// <summary>Runs kubectl to completion, or kills it after <paramref name="limit"/> (exit code -1, output so far).</summary>
    public Task<Result> RunAsync(TimeSpan limit, params string[] args) => RunWhileAsync(limit, null, args);

    /// <summary>
    /// Runs kubectl and, while it runs, <paramref name="whileRunning"/> (e.g. changes a <c>-w</c> watch should see);
    /// then waits for it to exit, or kills it after <paramref name="limit"/> (exit code -1, output so far).
    /// </summary>
    public async Task<Result> RunWhileAsync(TimeSpan limit, Func<Task>? whileRunning, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var start = new ProcessStartInfo(Executable)
        {
            // Never the test process's own stdin: xunit's runner talks to the test process through it, and a child that
            // reads it can end the whole test run ("Test process crashed with exit code 0"). Closed at once after the start.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--kubeconfig");
        start.ArgumentList.Add(kubeconfig);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // kubectl caches discovery under HOME: a per-cluster directory keeps runs from sharing stale documents.
        var home = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(kubeconfig))!;
        start.Environment["HOME"] = home;
        start.Environment["KUBECACHEDIR"] = System.IO.Path.Combine(home, "kubectl-cache");

        var cancellation = TestContext.Current.CancellationToken;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        if (whileRunning is not null)
        {
            await whileRunning();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(cancellation);
            return new Result(-1, await stdout, await stderr);
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs kubectl and fails the test with kubectl's own output when it does not exit 0.</summary>
    public async Task<string> SucceedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed:\n{result}");
        return result.Out;
    }
}
