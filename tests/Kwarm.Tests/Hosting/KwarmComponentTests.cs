using Kwarm.Hosting;
using Kwarm.Observability;
using Kwarm.Tests.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kwarm.Tests.Hosting;

/// <summary>Components (the Kubernetes plumbing, the controllers) plug in as hosted services; how their failures end the process.</summary>
public sealed class KwarmComponentTests
{
    [Fact]
    public async Task Component_that_cannot_start_exits_1_with_its_message_on_one_line()
    {
        var stderr = new StringWriter();
        await using var app = Build(services => services.AddHostedService<NoKubeconfigAtStart>());

        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);

        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Equal("kwarm: no Kubernetes configuration: set --kubeconfig or KUBECONFIG, or run in a cluster" + Environment.NewLine, stderr.ToString());
    }

    /// <summary>A start-up failure the user must fix is printed once, on stderr; the log does not repeat it.</summary>
    [Fact]
    public async Task A_start_up_failure_is_printed_once()
    {
        var stderr = new StringWriter();
        var log = new PrintedLog(new KwarmTextConsoleFormatter(TimeProvider.System));
        await using var app = Build(services => services.AddHostedService<NoKubeconfigAtStart>(), log: log);

        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);

        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Equal("kwarm: no Kubernetes configuration: set --kubeconfig or KUBECONFIG, or run in a cluster" + Environment.NewLine, stderr.ToString());
        Assert.DoesNotContain(log.Entries, entry => entry.Contains("no Kubernetes configuration", StringComparison.Ordinal));
    }

    /// <summary>A failure no setting explains (a bug) is logged once with its stack trace, which the bug report needs.</summary>
    [Fact]
    public async Task A_start_up_bug_is_logged_with_its_stack_trace()
    {
        var stderr = new StringWriter();
        var log = new PrintedLog(new KwarmTextConsoleFormatter(TimeProvider.System));
        await using var app = Build(services => services.AddHostedService<BrokenAtStart>(), log: log);

        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);

        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Equal("kwarm: failed to start: index out of range" + Environment.NewLine, stderr.ToString());
        var logged = Assert.Single(log.WithEvent(3));
        Assert.Contains("crit: Kwarm.Hosting[3] Kwarm could not start: failed to start: index out of range", logged, StringComparison.Ordinal);
        Assert.Contains("   at ", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Component_that_fails_while_running_stops_the_process_with_exit_1()
    {
        var stderr = new StringWriter();
        await using var app = Build(services => services.AddHostedService<NoKubeconfigWhileRunning>());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));

        var exitCode = await app.RunKwarmAsync(stderr, timeout.Token);

        Assert.False(timeout.IsCancellationRequested, "the host did not stop by itself");
        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Equal("kwarm: no Kubernetes configuration: set --kubeconfig or KUBECONFIG, or run in a cluster" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public async Task Unexpected_component_crash_names_the_component()
    {
        var stderr = new StringWriter();
        await using var app = Build(services => services.AddHostedService<CrashingController>());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));

        var exitCode = await app.RunKwarmAsync(stderr, timeout.Token);

        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Equal("kwarm: CrashingController failed: work queue corrupted" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public async Task Clean_stop_exits_0_after_running_the_components()
    {
        var stderr = new StringWriter();
        var component = new CountingComponent();
        await using var app = Build(services => services.AddHostedService(_ => component));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = app.RunKwarmAsync(stderr, stop.Token);
        await component.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        var exitCode = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(0, exitCode);
        Assert.True(component.StoppedGracefully);
        Assert.Empty(stderr.ToString());
    }

    [Fact]
    public async Task Setting_broken_by_a_component_after_the_flags_exits_2_before_binding()
    {
        var stderr = new StringWriter();
        await using var app = Build(services => services.PostConfigure<KwarmOptions>(options => options.Namespace = "Not A Namespace"));

        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);

        Assert.Equal(KwarmHost.ExitInvalidSettings, exitCode);
        Assert.Equal("kwarm: invalid --namespace \"Not A Namespace\": expected a namespace name (lower-case letters, digits and '-', at most 63 characters)" + Environment.NewLine, stderr.ToString());
        Assert.Null(app.Services.GetRequiredService<KwarmListeners>().EndPointOf(KwarmListener.Probes));
    }

    [Fact]
    public async Task Missing_certificate_source_exits_1_before_binding()
    {
        var stderr = new StringWriter();
        await using var app = Build(_ => { }, withCertificate: false);

        var exitCode = await app.StartKwarmAsync(stderr, TestContext.Current.CancellationToken);

        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Equal("kwarm: no IServingCertificateSource is registered, so the webhook cannot serve TLS" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public async Task Component_failing_while_its_endpoint_is_mapped_exits_1_with_its_message()
    {
        var stderr = new StringWriter();
        var builder = Prepare();
        builder.Services.AddSingleton<KubernetesClientStandIn>(_ => throw new KwarmStartupException("no Kubernetes configuration found"));

        var exitCode = await builder.RunKwarmAsync(
            webhook => webhook.ServiceProvider.GetRequiredService<KubernetesClientStandIn>(),
            stderr,
            TestContext.Current.CancellationToken);

        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Equal("kwarm: no Kubernetes configuration found" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public async Task Builder_run_serves_the_webhook_route_until_stopped_then_exits_0()
    {
        var stderr = new StringWriter();
        var builder = Prepare();
        var component = new CountingComponent();
        builder.Services.AddHostedService(_ => component);
        var mapped = new TaskCompletionSource<IServiceProvider>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = builder.RunKwarmAsync(
            webhook =>
            {
                webhook.MapPost("/mutate/deployments", () => "ok");
                mapped.SetResult(webhook.ServiceProvider);
            },
            stderr,
            stop.Token);
        var services = await mapped.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(serving.SetResult);
        await serving.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await component.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var webhookEndPoint = services.GetRequiredService<KwarmListeners>().EndPointOf(KwarmListener.Webhook);
        using var client = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        using var response = await client.PostAsync(new Uri($"https://127.0.0.1:{webhookEndPoint!.Port}/mutate/deployments"), null, TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        var exitCode = await run.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, exitCode);
        Assert.True(component.StoppedGracefully);
    }

    private static WebApplicationBuilder Prepare(bool withCertificate = true, ILoggerProvider? log = null)
    {
        var launch = KwarmHost.Prepare(
            ["--webhook-bind-address=127.0.0.1:0", "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0"],
            new Dictionary<string, string>(StringComparer.Ordinal), TextWriter.Null, TextWriter.Null, AppContext.BaseDirectory);
        var builder = launch.Builder!;
        builder.Logging.ClearProviders();
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
        }

        if (withCertificate)
        {
            builder.Services.AddSingleton<IServingCertificateSource>(new FixedServingCertificate("kwarm"));
        }

        return builder;
    }

    private static WebApplication Build(Action<IServiceCollection> addComponents, bool withCertificate = true, ILoggerProvider? log = null)
    {
        var builder = Prepare(withCertificate, log);
        addComponents(builder.Services);
        var app = builder.Build();
        app.MapKwarmEndpoints();
        return app;
    }

    private sealed class KubernetesClientStandIn;

    private sealed class NoKubeconfigAtStart : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            throw new KwarmStartupException("no Kubernetes configuration: set --kubeconfig or KUBECONFIG, or run in a cluster");

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class BrokenAtStart : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("index out of range");

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class NoKubeconfigWhileRunning : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            throw new KwarmStartupException("no Kubernetes configuration: set --kubeconfig or KUBECONFIG, or run in a cluster");
        }
    }

    private sealed class CrashingController : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(10, stoppingToken);
            throw new InvalidOperationException("work queue corrupted");
        }
    }

    private sealed class CountingComponent : BackgroundService
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool StoppedGracefully { get; private set; }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                StoppedGracefully = true;
            }
        }
    }
}
