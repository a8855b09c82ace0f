using System.Net;
using System.Net.Sockets;

namespace Kwarm.Tests.EndToEnd;

/// <summary>
/// One Kwarm replica running in this process through <see cref="KwarmApplication.RunAsync"/>, exactly as
/// <c>Program</c> runs it, on free loopback ports. Stopping it is a SIGTERM: the host shuts down cleanly.
/// </summary>
public sealed class KwarmInstance : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();
    private readonly Task<int> _run;

    private KwarmInstance(IReadOnlyList<string> args, int webhookPort, int metricsPort, int probesPort)
    {
        WebhookEndPoint = new IPEndPoint(IPAddress.Loopback, webhookPort);
        MetricsUri = new Uri($"http://127.0.0.1:{metricsPort}/metrics");
        ProbesUri = new Uri($"http://127.0.0.1:{probesPort}/");

        // No KWARM_* variable of the test process may leak into the replica: its settings are exactly the flags.
        _run = Task.Run(() => KwarmApplication.RunAsync(args, new Dictionary<string, string>(), _stdout, _stderr, _stop.Token));
    }

    public IPEndPoint WebhookEndPoint { get; }

    public Uri MetricsUri { get; }

    public Uri ProbesUri { get; }

    /// <summary>What the replica wrote to its standard error (start failures, one line each).</summary>
    public string StandardError => _stderr.ToString();

    public bool HasExited => _run.IsCompleted;

    /// <summary>Starts a replica and waits until <c>/readyz</c> answers 200 (caches synced, certificate loaded).</summary>
    public static async Task<KwarmInstance> StartAsync(string kubeconfig, string certificateDirectory, IEnumerable<string> extraArgs, TimeSpan readyWithin)
    {
        var (webhook, metrics, probes) = (FreePort(), FreePort(), FreePort());
        string[] args =
        [
            "--kubeconfig", kubeconfig,
            "--webhook-cert-dir", certificateDirectory,
            "--webhook-bind-address", $"127.0.0.1:{webhook}",
            "--metrics-bind-address", $"127.0.0.1:{metrics}",
            "--health-probe-bind-address", $"127.0.0.1:{probes}",
            "--namespace", "kwarm-system",
            "--log-format", "text",
            .. extraArgs,
        ];
        var instance = new KwarmInstance(args, webhook, metrics, probes);
        await instance.WaitReadyAsync(readyWithin);
        return instance;
    }

    /// <summary>Stops the replica like a SIGTERM and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await _run;
    }

    /// <summary>Waits for the replica to exit on its own (no stop asked) and returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan within) => _run.WaitAsync(within, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            await StopAsync();
        }

        _stop.Dispose();
        await _stdout.DisposeAsync();
        await _stderr.DisposeAsync();
    }

    private async Task WaitReadyAsync(TimeSpan within)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + within;
        var lastAnswer = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (_run.IsCompleted)
            {
                throw new InvalidOperationException($"Kwarm exited with code {await _run} before it was ready: {StandardError}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(ProbesUri, "readyz"), TestContext.Current.CancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                lastAnswer = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}";
            }
            catch (HttpRequestException refused)
            {
                lastAnswer = refused.Message;
            }
            catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                // The client's own timeout: a process still starting on a loaded machine answers late. Ask again.
                lastAnswer = $"no answer within {http.Timeout.TotalSeconds:0} s";
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"Kwarm was not ready within {within}: /readyz said {lastAnswer}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
