using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Kwarm.Admission;
using Kwarm.Local;
using Kwarm.Resources;
using Kwarm.Tests.EndToEnd;
using Kwarm.Workloads;

namespace Kwarm.Tests.Local;

/// <summary>
/// The README's "Try it by hand": the playground started as a person starts it, driven with the real kubectl from the
/// lines it prints, stopped with SIGTERM. It must hold and release an image change, exit 0 and leave no temporary
/// folder behind.
/// </summary>
[Collection(OneSimulatedClusterAtATime.Name)]
public sealed class PlaygroundTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Printed_commands_hold_and_release_an_image_change_and_sigterm_leaves_nothing_behind()
    {
        var scratch = Directory.CreateTempSubdirectory("kwarm-playground-test-");
        var temporary = Directory.CreateDirectory(Path.Combine(scratch.FullName, "tmp")).FullName;
        var playground = PlaygroundProcess.Start(temporary, scratch.FullName, "--playground", "--nodes", "3");
        try
        {
            var export = await playground.WaitForLineAsync(line => line.StartsWith("  export KUBECONFIG=", StringComparison.Ordinal), "the export KUBECONFIG line", TimeSpan.FromMinutes(3));
            var kubeconfig = export["  export KUBECONFIG=".Length..];
            var kubectl = new Kubectl(kubeconfig);
            var printed = playground.Lines.SkipWhile(line => !line.StartsWith(Playground.ReadyLine, StringComparison.Ordinal)).ToList();
            Assert.Contains("  kubectl get nodes", printed);

            Assert.Equal(3, (await kubectl.SucceedAsync("get", "nodes", "-o", "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

            // The printed `kubectl set image`, as printed: the webhook holds the rollout and says so.
            var setImage = Command(printed, "kubectl set image ");
            var changed = await kubectl.RunAsync(setImage);
            Assert.True(changed.ExitCode == 0, changed.ToString());
            Assert.Contains("Warning: kwarm: rollout held until the new images are on the nodes", changed.Error, StringComparison.Ordinal);
            var holdId = HoldId.For([LocalCluster.NewImage]);

            // The printed `kubectl rollout status`: it waits through the hold and the rollout.
            var rolledOut = await kubectl.RunAsync(TimeSpan.FromMinutes(3), [.. Command(printed, "kubectl rollout status "), "--timeout=170s"]);
            Assert.True(rolledOut.ExitCode == 0, rolledOut.ToString());
            Assert.Contains("successfully rolled out", rolledOut.Out, StringComparison.Ordinal);

            var annotations = await kubectl.SucceedAsync("get", "deployment", "web", "-o", "jsonpath={.spec.paused} {.metadata.annotations.kwarm\\.io/released}");
            // A released Deployment has no spec.paused at all: the API server does not store false (DESIGN §4 release patch).
            Assert.Equal($" {holdId}", annotations);
            var described = await kubectl.SucceedAsync(Command(printed, "kubectl describe deployment "));
            Assert.Contains("HoldStarted", described, StringComparison.Ordinal);
            Assert.Contains($"Hold {holdId} released (Warm)", described, StringComparison.Ordinal);

            var workDirectory = Path.GetDirectoryName(kubeconfig)!;
            Assert.True(Directory.Exists(workDirectory));
            var exitCode = await playground.TerminateAsync(TimeSpan.FromMinutes(1));

            Assert.True(exitCode == 0, $"the playground exited {exitCode}:\n{string.Join('\n', playground.Lines)}\n{playground.Errors}");
            Assert.Contains($"Stopped; removed {workDirectory}. In the shells where you exported it: unset KUBECONFIG", playground.Lines);
            Assert.False(Directory.Exists(workDirectory), $"{workDirectory} is still there");
            Assert.Empty(Directory.GetDirectories(temporary));
            Assert.Equal("", playground.Errors);
        }
        finally
        {
            await playground.DisposeAsync();
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>The words after the prompt of the printed line starting with <paramref name="prefix"/>, without kubectl and the comment.</summary>
    private static string[] Command(IReadOnlyList<string> printed, string prefix)
    {
        var line = printed.Select(text => text.Trim()).FirstOrDefault(text => text.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"the playground printed no \"{prefix}\" line:\n{string.Join('\n', printed)}");
        var command = line.Split('#')[0];
        return command.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
    }

    /// <summary>The run command (<c>Kwarm.Local.dll</c> from this test's output) as its own process, its output read line by line.</summary>
    private sealed class PlaygroundProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly Task _reader;
        private readonly Task<string> _errors;

        private PlaygroundProcess(Process process)
        {
            _process = process;
            _reader = ReadAsync(process.StandardOutput);
            _errors = process.StandardError.ReadToEndAsync(Cancellation);
        }

        public IReadOnlyList<string> Lines => [.. _lines];

        public string Errors => _errors.IsCompletedSuccessfully ? _errors.Result : "";

        /// <summary>Starts it with <c>TMPDIR</c> at <paramref name="temporary"/> and no cluster configured.</summary>
        public static PlaygroundProcess Start(string temporary, string home, params string[] arguments)
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

            start.Environment["TMPDIR"] = temporary;
            start.Environment["HOME"] = home;
            start.Environment.Remove("KUBECONFIG");
            start.Environment.Remove("KWARM_KUBECONFIG");
            var process = Process.Start(start) ?? throw new InvalidOperationException("the playground did not start");
            process.StandardInput.Close();
            return new PlaygroundProcess(process);
        }

        public async Task<string> WaitForLineAsync(Func<string, bool> matches, string what, TimeSpan within)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            limit.CancelAfter(within);
            while (true)
            {
                if (_lines.FirstOrDefault(matches) is { } line)
                {
                    return line;
                }

                if (_process.HasExited || limit.IsCancellationRequested)
                {
                    await _reader;
                    Assert.Fail($"the playground printed no {what}:\n{string.Join('\n', _lines)}\n{(_process.HasExited ? await _errors : "")}");
                }

                await Task.Delay(100, Cancellation);
            }
        }

        /// <summary>Sends SIGTERM, as a service manager or `kill` does, and returns the exit code.</summary>
        public async Task<int> TerminateAsync(TimeSpan within)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(Cancellation);
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            limit.CancelAfter(within);
            await _process.WaitForExitAsync(limit.Token);
            await _reader;
            await _errors;
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(Cancellation);
            }

            _process.Dispose();
        }

        private async Task ReadAsync(StreamReader output)
        {
            while (await output.ReadLineAsync(Cancellation) is { } line)
            {
                _lines.Enqueue(line);
            }
        }
    }
}
