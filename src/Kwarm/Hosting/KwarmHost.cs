using System.Collections;
using Kwarm.Observability;
using Microsoft.Extensions.Options;

namespace Kwarm.Hosting;

/// <summary>
/// The process host (DESIGN §6): reads and validates the settings before anything starts, then runs one
/// ASP.NET Core application with three listeners (webhook over TLS, metrics, probes).
/// Exit codes: 0 after a clean stop or <c>--help</c>, 1 when a component cannot start, 2 for bad flags or settings.
/// </summary>
public static class KwarmHost
{
    public const int ExitStartFailed = 1;
    public const int ExitInvalidSettings = 2;

    /// <summary>
    /// Parses <paramref name="args"/>, reads <c>KWARM_*</c> from <paramref name="environment"/> and the <c>Kwarm</c>
    /// configuration section, and validates the result. A bad flag or value writes one line to
    /// <paramref name="stderr"/> and yields exit code 2 with no builder; <c>--help</c> yields exit code 0.
    /// </summary>
    /// <param name="contentRootPath">Where <c>appsettings.json</c> is looked for; the application's own directory by default.</param>
    public static KwarmLaunch Prepare(
        IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string> environment,
        TextWriter stdout,
        TextWriter stderr,
        string? contentRootPath = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var commandLine = KwarmCommandLine.Parse(args);
        if (commandLine.HelpRequested)
        {
            stdout.Write(KwarmCommandLine.HelpText());
            return new KwarmLaunch(null, 0);
        }

        if (commandLine.Error is { } error)
        {
            stderr.WriteLine("kwarm: " + error);
            return new KwarmLaunch(null, ExitInvalidSettings);
        }

        // An empty variable counts as unset, as it does for KUBECONFIG: manifests often template variables to "".
        var fromEnvironment = KwarmFlags.All
            .Where(flag => environment.TryGetValue(flag.EnvironmentVariable, out var value) && value.Length > 0)
            .ToDictionary(flag => flag.Property, flag => environment[flag.EnvironmentVariable], StringComparer.Ordinal);
        var sources = new KwarmSettingSources(commandLine.Values, fromEnvironment);

        WebApplicationBuilder builder;
        try
        {
            builder = WebApplication.CreateBuilder(new WebApplicationOptions
            {
                // Kwarm's own flags are not configuration keys; the argument below only stops appsettings.json from
                // being watched, since settings are read once at start.
                Args = ["--hostBuilder:reloadConfigOnChange=false"],
                ContentRootPath = contentRootPath ?? AppContext.BaseDirectory,
                ApplicationName = typeof(KwarmHost).Assembly.GetName().Name,
            });
        }
        catch (InvalidDataException unreadable)
        {
            // A malformed appsettings.json: the loader names the file, the JSON reader beneath it the line and position.
            var detail = unreadable.GetBaseException() is { } cause && cause != unreadable ? $" ({OneLine(cause.Message)})" : "";
            stderr.WriteLine($"kwarm: {OneLine(unreadable.Message)}{detail}");
            return new KwarmLaunch(null, ExitInvalidSettings);
        }

        // The listeners come from the bind-address flags only; ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS (set in the
        // official .NET images) would otherwise make Kestrel warn that it ignores them.
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        builder.WebHost.UseSetting(WebHostDefaults.HttpPortsKey, "");
        builder.WebHost.UseSetting(WebHostDefaults.HttpsPortsKey, "");

        // Added after appsettings.json and the default environment provider, so the environment wins over files and flags win over both.
        builder.Configuration.AddInMemoryCollection(InSection(fromEnvironment));
        builder.Configuration.AddInMemoryCollection(InSection(commandLine.Values));

        var settings = new KwarmOptions();
        KwarmOptionsBinder.Bind(builder.Configuration, settings);
        var validation = new KwarmOptionsValidator(builder.Configuration, sources).Validate(Options.DefaultName, settings);
        if (validation.Failed)
        {
            stderr.WriteLine("kwarm: " + validation.Failures.First());
            return new KwarmLaunch(null, ExitInvalidSettings);
        }

        builder.Logging.AddKwarmConsole(KwarmLogging.UsesJson(settings.LogFormat, environment));
        AddHostServices(builder.Services, sources);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ApplicationServices.GetRequiredService<KwarmListeners>().Configure(kestrel));
        builder.WebHost.UseSockets(sockets => sockets.MaxReadBufferSize = KwarmListeners.ReadAheadBytes);
        return new KwarmLaunch(builder, 0);
    }

    /// <summary>The process's environment variables, for <see cref="Prepare"/>.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(entry => (string)entry.Key, entry => entry.Value as string ?? "", StringComparer.Ordinal);

    /// <summary>
    /// Starts the application; returns null once it is serving, or the exit code when it could not start
    /// (the reason written to <paramref name="stderr"/> on one line).
    /// </summary>
    public static async Task<int?> StartKwarmAsync(this WebApplication app, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(stderr);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Kwarm.Hosting");

        if (app.Services.GetService<IServingCertificateSource>() is null)
        {
            stderr.WriteLine($"kwarm: no {nameof(IServingCertificateSource)} is registered, so the webhook cannot serve TLS");
            return ExitStartFailed;
        }

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException invalid)
        {
            stderr.WriteLine("kwarm: " + invalid.Failures.First());
            return ExitInvalidSettings;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The host was stopped while it started: either a component failed at once (which stops the host) or
            // a SIGTERM arrived; only the first is an error.
            await StopQuietlyAsync(app).ConfigureAwait(false);
            if (FailedComponent(app.Services) is { } componentFailure)
            {
                stderr.WriteLine("kwarm: " + componentFailure);
                return ExitStartFailed;
            }

            return 0;
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            // Printed once, on stderr. Only a failure nobody could fix by a setting (a bug) is logged too, with the
            // exception: that stack trace is what the bug report needs.
            var reason = FindStartupReason(failure) ?? $"failed to start: {OneLine(failure.Message)}";
            if (FindStartupReason(failure) is null && !IsListenerProblem(failure))
            {
                logger.StartFailed(reason, failure);
            }

            stderr.WriteLine("kwarm: " + reason);
            await StopQuietlyAsync(app).ConfigureAwait(false);
            return ExitStartFailed;
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            var listeners = app.Services.GetRequiredService<KwarmListeners>();
            var options = app.Services.GetRequiredService<IOptions<KwarmOptions>>().Value;
            logger.Started(
                listeners.EndPointOf(KwarmListener.Webhook),
                listeners.EndPointOf(KwarmListener.Metrics),
                listeners.EndPointOf(KwarmListener.Probes));
            logger.Settings(options.MaxConcurrentPulls, options.MaxPullsPerNode, options.LeaderElect, options.Namespace, options.ToolsImage);
        }

        return null;
    }

    /// <summary>
    /// Builds the application, maps the host's endpoints and the webhook's (<paramref name="mapWebhook"/> receives the
    /// route group served only on the TLS port), serves until stopped and disposes it; returns the process exit code.
    /// A component that throws <see cref="KwarmStartupException"/> while being built or mapped exits 1 like one failing at start.
    /// </summary>
    public static async Task<int> RunKwarmAsync(
        this WebApplicationBuilder builder,
        Action<IEndpointRouteBuilder> mapWebhook,
        TextWriter stderr,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(stderr);
        WebApplication app;
        try
        {
            app = builder.Build();
            app.MapKwarmEndpoints(mapWebhook);
        }
        catch (Exception failure) when (FindStartupReason(failure) is { } reason)
        {
            stderr.WriteLine("kwarm: " + reason);
            return ExitStartFailed;
        }

        await using (app.ConfigureAwait(false))
        {
            return await app.RunKwarmAsync(stderr, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts the application and serves until it is stopped (SIGTERM, Ctrl+C); returns the process exit code.</summary>
    public static async Task<int> RunKwarmAsync(this WebApplication app, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (await app.StartKwarmAsync(stderr, cancellationToken).ConfigureAwait(false) is { } exitCode)
        {
            return exitCode;
        }

        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Kwarm.Hosting").Stopped();

        // A component that fails after start stops the host (BackgroundServiceExceptionBehavior.StopHost); the exit
        // code must then say so, or Kubernetes would take a crash for a clean stop and not count the restart.
        if (FailedComponent(app.Services) is { } failure)
        {
            stderr.WriteLine("kwarm: " + failure);
            return ExitStartFailed;
        }

        return 0;
    }

    /// <summary>Why the first failed component failed (<c>ExecuteAsync</c> ended with an exception), or null.</summary>
    internal static string? FailedComponent(IServiceProvider services) =>
        services.GetServices<IHostedService>()
            .OfType<BackgroundService>()
            .Select(component => component.ExecuteTask is { IsFaulted: true, Exception: { } failure }
                ? FindStartupReason(failure) ?? $"{component.GetType().Name} failed: {OneLine(failure.GetBaseException().Message)}"
                : null)
            .FirstOrDefault(reason => reason is not null);

    private static void AddHostServices(IServiceCollection services, KwarmSettingSources sources)
    {
        services.AddSingleton(sources);
        services.AddSingleton<IValidateOptions<KwarmOptions>, KwarmOptionsValidator>();
        services.AddOptions<KwarmOptions>()
            .Configure<IConfiguration>((options, configuration) => KwarmOptionsBinder.Bind(configuration, options))
            .ValidateOnStart();
        services.AddHealthChecks().AddCheck<ServingCertificateHealthCheck>(KwarmHealthChecks.CertificateCheck, tags: [KwarmHealthChecks.ReadyTag]);
        services.AddSingleton<KwarmListeners>();
        services.AddSingleton(TimeProvider.System);
        services.AddKwarmMetrics();
    }

    private static IEnumerable<KeyValuePair<string, string?>> InSection(IReadOnlyDictionary<string, string> values) =>
        values.Select(pair => KeyValuePair.Create<string, string?>(KwarmOptions.SectionName + ":" + pair.Key, pair.Value));

    private static string? FindStartupReason(Exception failure) => failure switch
    {
        KwarmStartupException startup => OneLine(startup.Message),
        AggregateException aggregate => aggregate.InnerExceptions.Select(FindStartupReason).FirstOrDefault(reason => reason is not null),
        { InnerException: { } inner } => FindStartupReason(inner),
        _ => null,
    };

    /// <summary>A listener that cannot bind (a port in use, a privileged port): a setting to change, not a bug.</summary>
    private static bool IsListenerProblem(Exception failure) =>
        failure.GetBaseException() is System.Net.Sockets.SocketException
        || (failure is IOException && failure.Message.Contains("bind", StringComparison.OrdinalIgnoreCase));

    private static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static async Task StopQuietlyAsync(WebApplication app)
    {
        try
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception stopFailure) when (stopFailure is not OutOfMemoryException)
        {
            // Already exiting for the start failure, which is the one worth reporting.
        }
    }
}
