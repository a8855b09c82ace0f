using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// A long-running kubectl (<c>get -w</c>) whose output is read line by line as it comes, so a test waits for the line it
/// expects instead of for a fixed time.
/// </summary>
internal sealed class KubectlStream : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly Task _reader;

    private KubectlStream(Process process)
    {
        _process = process;
        _reader = ReadAsync();
    }

    public IReadOnlyList<string> Lines => [.. _lines];

    public static KubectlStream Start(string kubeconfig, params string[] args)
    {
        var start = new ProcessStartInfo(Kubectl.Path ?? throw new InvalidOperationException("kubectl is not on PATH"))
        {
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

        start.Environment["HOME"] = Path.GetDirectoryName(kubeconfig)!;
        start.Environment["KUBECACHEDIR"] = Path.Combine(Path.GetDirectoryName(kubeconfig)!, "cache");
        var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        process.StandardInput.Close();
        return new KubectlStream(process);
    }

    /// <summary>Waits until a line matches; fails with everything read so far when none does within <paramref name="seconds"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> matches, string what, double seconds = 30)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            if (_lines.FirstOrDefault(matches) is { } line)
            {
                return line;
            }

            if (_reader.IsCompleted || timeout.IsCancellationRequested)
            {
                var error = _process.HasExited ? await _process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken) : "";
                Assert.Fail($"kubectl printed no {what}; its output:\n{string.Join('\n', _lines)}\n{error}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            _lines.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        await _reader;
        _process.Dispose();
    }
}
