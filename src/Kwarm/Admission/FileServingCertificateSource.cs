using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kwarm.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kwarm.Admission;

/// <summary>
/// Serves the PEM pair <c>tls.crt</c> / <c>tls.key</c> from <c>--webhook-cert-dir</c> and follows its rotation.
/// cert-manager and the kubelet swap a <c>..data</c> symlink to publish new files atomically, so the whole
/// directory is watched; a cheap periodic stat is the fallback for missed events (inotify limits, network
/// volumes). A new pair that does not load (half written, key mismatch) leaves the previous certificate in
/// service and is reported once.
/// </summary>
public sealed partial class FileServingCertificateSource : IServingCertificateSource, IHostedService, IDisposable
{
    public const string CertificateFileName = "tls.crt";
    public const string KeyFileName = "tls.key";

    public static readonly TimeSpan DefaultRecheckPeriod = TimeSpan.FromSeconds(10);

    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly ILogger<FileServingCertificateSource> _logger;
    private readonly TimeSpan _recheckPeriod;
    private readonly bool _watchDirectory;
    private readonly Lock _refreshLock = new();

    private volatile X509Certificate2? _current;
    private string? _lastAttempt;
    private FileSystemWatcher? _watcher;
    private ITimer? _timer;

    public FileServingCertificateSource(IOptions<KwarmOptions> options, TimeProvider time, ILogger<FileServingCertificateSource> logger)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value.WebhookCertDir, time, logger, DefaultRecheckPeriod, watchDirectory: true)
    {
    }

    internal FileServingCertificateSource(string directory, TimeProvider time, ILogger<FileServingCertificateSource> logger,
        TimeSpan recheckPeriod, bool watchDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _recheckPeriod = recheckPeriod;
        _watchDirectory = watchDirectory;
    }

    public X509Certificate2? Current => _current;

    public string Directory => _directory;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Refresh();
        if (_watchDirectory)
        {
            StartWatching();
        }

        _timer = _time.CreateTimer(_ => Refresh(), null, _recheckPeriod, _recheckPeriod);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        StopWatching();
        return Task.CompletedTask;
    }

    public void Dispose() => StopWatching();

    /// <summary>
    /// Loads the files if they changed since the last attempt (by resolved path, size and write time, so the
    /// check costs a few stat calls). Returns true when a new certificate was put in service.
    /// </summary>
    public bool Refresh()
    {
        lock (_refreshLock)
        {
            var certificatePath = Path.Combine(_directory, CertificateFileName);
            var keyPath = Path.Combine(_directory, KeyFileName);
            var fingerprint = Fingerprint(certificatePath) + "|" + Fingerprint(keyPath);
            if (string.Equals(fingerprint, _lastAttempt, StringComparison.Ordinal))
            {
                return false;
            }

            _lastAttempt = fingerprint;
            X509Certificate2 loaded;
            try
            {
                loaded = Load(certificatePath, keyPath);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                if (_current is null)
                {
                    LogNoCertificate(_logger, _directory, exception.Message);
                }
                else
                {
                    LogKeptPrevious(_logger, _directory, exception.Message, _current.Thumbprint);
                }

                return false;
            }

            // The previous certificate is not disposed: a handshake in flight may still be using it.
            _current = loaded;
            var notAfter = loaded.NotAfter.ToUniversalTime();
            LogLoaded(_logger, loaded.Subject, loaded.Thumbprint, notAfter, _directory);
            if (notAfter <= _time.GetUtcNow().UtcDateTime)
            {
                LogExpired(_logger, loaded.Thumbprint, notAfter);
            }

            return true;
        }
    }

    private static X509Certificate2 Load(string certificatePath, string keyPath)
    {
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
        {
            throw new FileNotFoundException($"{CertificateFileName} or {KeyFileName} is missing");
        }

        var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CryptographicException($"{KeyFileName} holds no private key for {CertificateFileName}");
        }

        return certificate;
    }

    private static string Fingerprint(string path)
    {
        try
        {
            var target = RealPath(path);
            var file = new FileInfo(target);
            return file.Exists ? $"{target}:{file.Length}:{file.LastWriteTimeUtc.Ticks}" : $"{target}:missing";
        }
        catch (IOException)
        {
            // A dangling or looping link: compare as missing; the load attempt reports the real error.
            return $"{path}:unreadable";
        }
    }

    /// <summary>
    /// The path with every symlink resolved, at any depth: after a <c>..data</c> swap, <c>tls.crt</c> still links to
    /// <c>..data/tls.crt</c> and only the directory link changed, so resolving the file's own link is not enough.
    /// </summary>
    private static string RealPath(string path)
    {
        var resolved = Path.GetFullPath(path);
        for (var hops = 0; hops < 40; hops++)
        {
            var changed = false;
            var root = Path.GetPathRoot(resolved) ?? "/";
            var current = root;
            var parts = resolved[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            for (var index = 0; index < parts.Length; index++)
            {
                var candidate = Path.Combine(current, parts[index]);
                FileSystemInfo info = new FileInfo(candidate);
                if (info.LinkTarget is { } link)
                {
                    var rest = string.Join(Path.DirectorySeparatorChar, parts[(index + 1)..]);
                    resolved = Path.GetFullPath(Path.Combine(Path.IsPathRooted(link) ? link : Path.Combine(current, link), rest));
                    changed = true;
                    break;
                }

                current = candidate;
            }

            if (!changed)
            {
                return resolved;
            }
        }

        throw new IOException($"too many levels of symbolic links in {path}");
    }

    private void StartWatching()
    {
        try
        {
            System.IO.Directory.CreateDirectory(_directory);
            var watcher = new FileSystemWatcher(_directory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            watcher.Changed += OnDirectoryEvent;
            watcher.Created += OnDirectoryEvent;
            watcher.Deleted += OnDirectoryEvent;
            watcher.Renamed += OnDirectoryEvent;
            watcher.Error += (_, args) => LogWatchFailed(_logger, _directory, args.GetException().Message);
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            // e.g. the inotify instance limit is reached: the periodic re-check still picks up rotations.
            LogWatchFailed(_logger, _directory, exception.Message);
        }
    }

    private void OnDirectoryEvent(object sender, FileSystemEventArgs args) => Refresh();

    private void StopWatching()
    {
        _timer?.Dispose();
        _timer = null;
        _watcher?.Dispose();
        _watcher = null;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information,
        Message = "Serving certificate loaded: subject {Subject}, thumbprint {Thumbprint}, valid until {NotAfter}, from {Directory}")]
    private static partial void LogLoaded(ILogger logger, string subject, string thumbprint, DateTime notAfter, string directory);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error,
        Message = "The certificate files in {Directory} could not be loaded ({Error}); still serving the previous certificate {Thumbprint}")]
    private static partial void LogKeptPrevious(ILogger logger, string directory, string error, string thumbprint);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Error,
        Message = "No serving certificate yet: the files in {Directory} could not be loaded ({Error}); the webhook is not ready")]
    private static partial void LogNoCertificate(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning,
        Message = "Cannot watch {Directory} for certificate rotation ({Error}); relying on the periodic re-check")]
    private static partial void LogWatchFailed(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "The serving certificate {Thumbprint} expired at {NotAfter}")]
    private static partial void LogExpired(ILogger logger, string thumbprint, DateTime notAfter);
}
