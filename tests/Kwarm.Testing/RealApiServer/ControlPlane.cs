using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;

namespace Kwarm.Testing.RealApiServer;

/// <summary>
/// A real Kubernetes control plane on loopback, as controller-runtime's envtest starts one: etcd, kube-apiserver,
/// kube-controller-manager and kube-scheduler from <see cref="ControlPlaneAssets"/>, on free ports, with a throwaway
/// CA (<see cref="ControlPlanePki"/>) in a temporary folder. Nothing runs pods: nodes are whatever a test registers.
/// Disposing stops every process (SIGTERM, then kill) and removes the folder; the processes are also killed when the
/// test host exits without disposing, so no run leaves one behind.
/// </summary>
public sealed class ControlPlane : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(90);

    private readonly List<ManagedProcess> _processes = [];
    private readonly ControlPlanePki _pki;
    private readonly EventHandler _onHostExit;

    private ControlPlane(string directory, ControlPlanePki pki)
    {
        Directory = directory;
        _pki = pki;
        _onHostExit = (_, _) => KillAll();
        AppDomain.CurrentDomain.ProcessExit += _onHostExit;
    }

    public string Directory { get; }

    public Uri Server { get; private set; } = null!;

    /// <summary>A kubeconfig for the cluster admin (group <c>system:masters</c>).</summary>
    public string AdminKubeconfig { get; private set; } = null!;

    public string CaPem => _pki.CaPem;

    public IKubernetes AdminClient { get; private set; } = null!;

    /// <summary>The processes' logs so far, for a failing test's message.</summary>
    public string Logs => string.Join("\n", _processes.Select(process => $"--- {process.Name} ---\n{process.Tail()}"));

    public static async Task<ControlPlane> StartAsync(ControlPlaneAssets assets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assets);
        var directory = System.IO.Directory.CreateTempSubdirectory("kwarm-envtest-").FullName;
        var plane = new ControlPlane(directory, ControlPlanePki.Create(directory));
        try
        {
            await plane.StartProcessesAsync(assets, cancellationToken);
            return plane;
        }
        catch
        {
            await plane.DisposeAsync();
            throw;
        }
    }

    private async Task StartProcessesAsync(ControlPlaneAssets assets, CancellationToken cancellationToken)
    {
        var etcdPort = FreePort();
        var etcdPeerPort = FreePort();
        var apiPort = FreePort();
        var etcdUrl = $"http://127.0.0.1:{etcdPort}";
        var peerUrl = $"http://127.0.0.1:{etcdPeerPort}";
        Start("etcd", assets.Etcd,
            "--name", "default", "--data-dir", Path.Combine(Directory, "etcd"),
            "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
            "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl, "--initial-cluster", "default=" + peerUrl);

        var serving = _pki.Serving("apiserver");
        var (publicKey, privateKey) = _pki.ServiceAccountKeys();
        Server = new Uri($"https://127.0.0.1:{apiPort}");
        Start("kube-apiserver", assets.ApiServer,
            "--etcd-servers", etcdUrl,
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", apiPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls-cert-file", serving.Certificate, "--tls-private-key-file", serving.Key,
            "--client-ca-file", _pki.CaFile,
            "--service-account-key-file", publicKey, "--service-account-signing-key-file", privateKey,
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range", "10.0.0.0/24",
            "--authorization-mode", "Node,RBAC",
            "--endpoint-reconciler-type", "none",
            "--allow-privileged=true");

        AdminKubeconfig = Kubeconfig("admin", "admin", "system:masters");
        using (var probe = ProbeClient("admin"))
        {
            await WaitReadyAsync("kube-apiserver", probe, new Uri(Server, "/readyz"), cancellationToken);
        }

        var controllerManagerKubeconfig = Kubeconfig("controller-manager", "system:kube-controller-manager");
        Start("kube-controller-manager", assets.ControllerManager,
            "--kubeconfig", controllerManagerKubeconfig,
            "--authentication-kubeconfig", controllerManagerKubeconfig, "--authorization-kubeconfig", controllerManagerKubeconfig,
            "--service-account-private-key-file", privateKey, "--root-ca-file", _pki.CaFile,
            "--use-service-account-credentials",
            "--controllers", "*,-nodeipam,-nodelifecycle,-service,-route,-cloud-node-lifecycle",
            "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var schedulerKubeconfig = Kubeconfig("scheduler", "system:kube-scheduler");
        Start("kube-scheduler", assets.Scheduler,
            "--kubeconfig", schedulerKubeconfig,
            "--authentication-kubeconfig", schedulerKubeconfig, "--authorization-kubeconfig", schedulerKubeconfig,
            "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));

        AdminClient = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(AdminKubeconfig));
        // The controller-manager is working once it has given the default namespace its service account.
        await WaitUntilAsync("the default service account (kube-controller-manager running)", async () =>
        {
            var accounts = await AdminClient.CoreV1.ListNamespacedServiceAccountAsync("default", cancellationToken: cancellationToken);
            return accounts.Items.Any(account => account.Metadata.Name == "default");
        }, cancellationToken);
    }

    /// <summary>Writes a kubeconfig authenticating with a client certificate for <paramref name="user"/>.</summary>
    public string Kubeconfig(string name, string user, params string[] groups)
    {
        var (certificate, key) = _pki.Client(name, user, groups);
        return WriteKubeconfig(name, $"""
                  client-certificate: {certificate}
                  client-key: {key}
            """);
    }

    /// <summary>A kubeconfig that authenticates with a bearer token (a service account's, from TokenRequest).</summary>
    public string TokenKubeconfig(string name, string token) => WriteKubeconfig(name, $"""
                  token: {token}
            """);

    private string WriteKubeconfig(string name, string credentials)
    {
        var path = Path.Combine(Directory, name + ".kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: envtest
                cluster:
                  server: {Server}
                  certificate-authority: {_pki.CaFile}
            users:
              - name: {name}
                user:
            {credentials}
            contexts:
              - name: envtest
                context:
                  cluster: envtest
                  user: {name}
            current-context: envtest
            """);
        return path;
    }

    private HttpClient ProbeClient(string name)
    {
        var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(Directory, name + ".crt"), Path.Combine(Directory, name + ".key"));
        var authority = X509Certificate2.CreateFromPem(_pki.CaPem);
        var handler = new HttpClientHandler
        {
            ClientCertificates = { X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null) },
            ServerCertificateCustomValidationCallback = (_, presented, _, _) =>
            {
                if (presented is null)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(authority);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(presented);
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
    }

    private async Task WaitReadyAsync(string what, HttpClient client, Uri uri, CancellationToken cancellationToken) =>
        await WaitUntilAsync(what + " ready", async () =>
        {
            try
            {
                using var response = await client.GetAsync(uri, cancellationToken);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }, cancellationToken);

    private async Task WaitUntilAsync(string what, Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (_processes.FirstOrDefault(process => process.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"{exited.Name} exited with {exited.ExitCode} while waiting for {what}:\n{Logs}");
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (k8s.Autorest.HttpOperationException)
            {
                // Not there yet (the API server answers before every controller runs).
            }

            if (stopwatch.Elapsed > StartLimit)
            {
                throw new TimeoutException($"{what} not within {StartLimit}:\n{Logs}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private void Start(string name, string fileName, params string[] arguments)
    {
        var process = ManagedProcess.Start(name, fileName, arguments, Directory);
        lock (_processes)
        {
            _processes.Add(process);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void KillAll()
    {
        lock (_processes)
        {
            foreach (var process in _processes)
            {
                process.Kill();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= _onHostExit;
        AdminClient?.Dispose();
        List<ManagedProcess> processes;
        lock (_processes)
        {
            processes = [.. _processes];
        }

        // Reverse order: the API server's clients first, etcd last.
        foreach (var process in Enumerable.Reverse(processes))
        {
            await process.StopAsync();
        }

        _pki.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // etcd may still be closing a file; the folder is under the temp directory either way.
        }
    }

    /// <summary>One child process with its output kept (the last part of it) for failure messages.</summary>
    private sealed class ManagedProcess
    {
        private const int KeptCharacters = 16_000;
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private ManagedProcess(string name, Process process)
        {
            Name = name;
            _process = process;
        }

        public string Name { get; }

        public bool HasExited => _process.HasExited;

        public int ExitCode => _process.ExitCode;

        public static ManagedProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory)
        {
            var startInfo = new ProcessStartInfo(fileName)
            {
                // Never the test process's own stdin: xunit's runner talks to the test process through it, and a child that
                // reads it can end the whole test run ("Test process crashed with exit code 0"). Closed at once after the start.
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory,
            };
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }

            var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
            var managed = new ManagedProcess(name, process);
            process.OutputDataReceived += (_, line) => managed.Keep(line.Data);
            process.ErrorDataReceived += (_, line) => managed.Keep(line.Data);
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return managed;
        }

        public string Tail()
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }

        public void Kill()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        public async Task StopAsync()
        {
            if (!_process.HasExited)
            {
                // SIGTERM first: etcd and the API server shut down cleanly within a second or two.
                using var terminate = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await terminate.WaitForExitAsync();
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    Kill();
                    await _process.WaitForExitAsync();
                }
            }

            _process.Dispose();
        }

        private void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
                if (_output.Length > KeptCharacters * 2)
                {
                    _output.Remove(0, _output.Length - KeptCharacters);
                }
            }
        }
    }
}
