using System.Diagnostics;

namespace Kwarm.Simulator.Tests;

/// <summary>Runs the real <c>kubectl</c> (the one on PATH) against a cluster's kubeconfig (the simulator's or a real control plane's).</summary>
public sealed class Kubectl(string kubeconfig)
{
    /// <summary>The <c>kubectl</c> on PATH, as the README's Set up asks for; null when there is none.</summary>
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => System.IO.Path.Combine(directory, "kubectl"))
        .FirstOrDefault(File.Exists);

    private static string Executable => Path ?? throw new InvalidOperationException("kubectl is not on PATH: the fidelity tests run it against the simulator (README, Set up)");

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Error}";
    }

    public async Task<Result> RunAsync(params string[] args) => await RunAsync(TimeSpan.FromSeconds(60), null, args);

    /// <summary>Runs kubectl; with <paramref name="stopAfter"/> the process is stopped then (for <c>-w</c>) and its output returned.</summary>
    public async Task<Result> RunAsync(TimeSpan limit, Func<Task>? whileRunning, params string[] args)
    {
        var start = new ProcessStartInfo(Executable)
        {
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

        start.Environment["HOME"] = System.IO.Path.GetDirectoryName(kubeconfig)!;
        start.Environment["KUBECACHEDIR"] = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(kubeconfig)!, "cache");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (whileRunning is not null)
        {
            await whileRunning();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            return new Result(-1, await stdout, await stderr);
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
