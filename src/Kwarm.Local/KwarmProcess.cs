using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kwarm.Local;

/// <summary>
/// Kwarm as its own process (<c>dotnet Kwarm.dll</c> or the native binary, see <see cref="KwarmCommand"/>), as it runs in a pod: its logs go to a file so the guided
/// run's timeline stays readable, and stopping it is a SIGTERM.
/// </summary>
public sealed class KwarmProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Task _pump;

    private KwarmProcess(Process process, StreamWriter log, string logPath, IPEndPoint webhook, Uri probes, Uri metrics)
    {
        MetricsUri = metrics;
        _process = process;
        _log = log;
        LogPath = logPath;
        WebhookEndPoint = webhook;
        ProbesUri = probes;
        _pump = Task.WhenAll(PumpAsync(process.StandardOutput), PumpAsync(process.StandardError));
    }

    public string LogPath { get; }

    public IPEndPoint WebhookEndPoint { get; }

    public Uri ProbesUri { get; }

    /// <summary>Kwarm's Prometheus endpoint (<c>/metrics</c>).</summary>
    public Uri MetricsUri { get; }

    public int ProcessId => _process.Id;

    public static async Task<KwarmProcess> StartAsync(
        KwarmCommand command, string kubeconfig, string certificateDirectory, string logPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var (webhook, metrics, probes) = (FreePort(), FreePort(), FreePort());
        var start = new ProcessStartInfo(command.FileName)
        {
            // Kwarm reads no input: it gets an empty stdin instead of this process's terminal or pipe.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[
            .. command.LeadingArguments,
            "--kubeconfig", kubeconfig,
            "--webhook-cert-dir", certificateDirectory,
            "--webhook-bind-address", $"127.0.0.1:{webhook}",
            "--metrics-bind-address", $"127.0.0.1:{metrics}",
            "--health-probe-bind-address", $"127.0.0.1:{probes}",
            "--namespace", "kwarm-system",
            "--log-format", "text"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        process.StandardInput.Close();
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var kwarm = new KwarmProcess(process, log, logPath, new IPEndPoint(IPAddress.Loopback, webhook), new Uri($"http://127.0.0.1:{probes}/"), new Uri($"http://127.0.0.1:{metrics}/metrics"));
        await kwarm.WaitReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        return kwarm;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM, as the kubelet stops a pod: Kwarm shuts down its listeners and informers cleanly.
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        await _pump.ConfigureAwait(false);
        await _log.DisposeAsync().ConfigureAwait(false);
        _process.Dispose();
    }

    private async Task WaitReadyAsync(TimeSpan within, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Kwarm exited with code {_process.ExitCode} before it was ready; see {LogPath}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(ProbesUri, "readyz"), cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"Kwarm was not ready within {within.TotalSeconds:0} s; see {LogPath}");
    }

    private async Task PumpAsync(StreamReader source)
    {
        while (await source.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (_log)
            {
                _log.WriteLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
