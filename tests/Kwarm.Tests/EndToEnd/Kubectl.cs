using System.Diagnostics;

namespace Kwarm.Tests.EndToEnd;

/// <summary>The real <c>kubectl</c>, for the steps a person would type, against a cluster's kubeconfig.</summary>
public sealed class Kubectl(string kubeconfig)
{
    /// <summary>The <c>kubectl</c> on PATH, as the README's Set up asks for.</summary>
    public static string Executable { get; } = Noop.ProcessRun.FindOnPath("kubectl")
        ?? throw new InvalidOperationException("kubectl is not on PATH: the end-to-end tests run it against the simulator (README, Set up)");

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Error}";
    }

    /// <summary>Runs kubectl to completion, or kills it after <paramref name="limit"/> (exit code -1, output so far).</summary>
    public async Task<Result> RunAsync(TimeSpan limit, params string[] args)
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

        // kubectl caches discovery under HOME: a per-cluster directory keeps runs from sharing stale documents.
        var home = Path.GetDirectoryName(kubeconfig)!;
        start.Environment["HOME"] = home;
        start.Environment["KUBECACHEDIR"] = Path.Combine(home, "kubectl-cache");

        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        var cancellation = TestContext.Current.CancellationToken;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
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

    public Task<Result> RunAsync(params string[] args) => RunAsync(TimeSpan.FromSeconds(60), args);

    /// <summary>Runs kubectl and fails the test with kubectl's own output when it does not exit 0.</summary>
    public async Task<string> SucceedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed:\n{result}");
        return result.Out;
    }
}
