using System.Diagnostics;

namespace Kwarm.Tests.EndToEnd;

/// <summary>Runs the real <c>/usr/bin/kubectl</c> against a kubeconfig, as a person would.</summary>
public sealed class KubectlProcess(string kubeconfig)
{
    public const string Path = "/usr/bin/kubectl";

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Out}\nstderr: {Error}";
    }

    /// <summary>Runs kubectl to completion (killed after <paramref name="limit"/>, then exit code -1).</summary>
    public async Task<Result> RunAsync(TimeSpan limit, string? stdin, params string[] args)
    {
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--kubeconfig");
        start.ArgumentList.Add(kubeconfig);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var home = System.IO.Path.GetDirectoryName(kubeconfig)!;
        start.Environment["HOME"] = home;
        start.Environment["KUBECACHEDIR"] = System.IO.Path.Combine(home, "cache");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        var cancellation = TestContext.Current.CancellationToken;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), cancellation);
            process.StandardInput.Close();
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

    public Task<Result> RunAsync(params string[] args) => RunAsync(TimeSpan.FromSeconds(30), null, args);

    /// <summary>Runs kubectl and fails the test unless it exits 0; returns its standard output.</summary>
    public async Task<string> SucceedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {result}");
        return result.Out;
    }

    public async Task ApplyAsync(string yaml)
    {
        var result = await RunAsync(TimeSpan.FromSeconds(30), yaml, "apply", "-f", "-");
        Assert.True(result.ExitCode == 0, $"kubectl apply: {result}\n{yaml}");
    }
}
