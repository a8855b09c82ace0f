using System.Diagnostics.Metrics;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Pulling;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;
using static Kwarm.Tests.Pulling.PullTestObjects;

namespace Kwarm.Tests.Pulling;

public sealed class PullingWiringTests
{
    [Fact]
    public void Add_kwarm_pulling_registers_the_controller_as_a_leader_only_worker_once_and_it_resolves()
    {
        var directory = Directory.CreateTempSubdirectory("kwarm-pulling-");
        try
        {
            var kubeconfig = Path.Combine(directory.FullName, "config");
            File.WriteAllText(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: c
                  cluster:
                    server: https://127.0.0.1:1
                users:
                - name: u
                  user:
                    token: abc
                contexts:
                - name: x
                  context:
                    cluster: c
                    user: u
                current-context: x
                """);
            var services = new ServiceCollection();
            services.AddLogging();
            services.Configure<KwarmOptions>(options => options.Kubeconfig = kubeconfig);
            services.AddKwarmKubernetes();
            services.AddKwarmMetrics();
            services.AddKwarmPulling();
            services.AddKwarmPulling();

            using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

            var worker = Assert.Single(provider.GetServices<ILeaderOnlyWorker>());
            Assert.IsType<PullController>(worker);
            Assert.IsType<KubernetesPullApi>(provider.GetRequiredService<IPullApi>());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Finished_attempts_active_pulls_and_phases_reach_the_metrics()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddSingleton<KwarmMetrics>();
        using var provider = services.BuildServiceProvider();
        var metrics = provider.GetRequiredService<KwarmMetrics>();
        var observed = new Dictionary<(string, string), double>();
        using var listener = Listen(provider.GetRequiredService<IMeterFactory>(), observed);
        var cluster = new FakePullCluster(metrics: metrics);
        cluster.Registry["r/missing:1"] = new FakeImage(TimeSpan.Zero, Missing: true);
        cluster.AddNode(Node("node-1"));
        cluster.AddNode(Node("node-2"));
        cluster.AddImage(Image("shop", "web", new PrePullImageSpec { Image = "r/web:1" }));
        cluster.AddImage(Image("shop", "missing", new PrePullImageSpec { Image = "r/missing:1", Retry = new RetrySpec { MaxAttempts = 1 } }));

        await cluster.AdvanceAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));

        listener.RecordObservableInstruments();
        Assert.Equal(2, observed[("kwarm_pulls_total", "pulled")]);
        Assert.Equal(2, observed[("kwarm_pulls_total", "failed")]);
        Assert.Equal(0, observed[("kwarm_active_pulls", "")]);
        Assert.Equal(1, observed[("kwarm_prepullimages_by_phase", "Completed")]);
        Assert.Equal(1, observed[("kwarm_prepullimages_by_phase", "Failed")]);
        Assert.Equal(2, observed[("kwarm_pull_duration_seconds", "count")]);
    }

    private static MeterListener Listen(IMeterFactory factory, Dictionary<(string, string), double> values)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KwarmMetrics.MeterName && instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            values[(instrument.Name, tags.Length == 0 ? "" : tags[0].Value?.ToString() ?? "")] = value);
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
            values[(instrument.Name, "count")] = values.GetValueOrDefault((instrument.Name, "count")) + 1);
        listener.Start();
        return listener;
    }
}
