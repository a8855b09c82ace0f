using System.Globalization;
using System.Text.RegularExpressions;
using k8s;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Tests.EndToEnd;

/// <summary>The controller runtime's metrics on the <c>/metrics</c> of a Kwarm that holds a rollout on the simulator.</summary>
[Collection(OneSimulatedClusterAtATime.Name)]
public sealed partial class RuntimeMetricsEndToEndTests
{
    private static readonly string[] RuntimeFamilies =
    [
        "kwarm_workqueue_depth gauge",
        "kwarm_workqueue_adds_total counter",
        "kwarm_workqueue_queue_duration_seconds histogram",
        "kwarm_workqueue_work_duration_seconds histogram",
        "kwarm_workqueue_retries_total counter",
        "kwarm_controller_reconcile_total counter",
        "kwarm_controller_reconcile_errors_total counter",
        "kwarm_controller_reconcile_time_seconds histogram",
        "kwarm_leader_election_master_status gauge",
        "kwarm_informer_restarts_total counter",
    ];

    [Fact]
    public async Task During_a_hold_metrics_show_the_work_queues_the_reconciles_the_informers_and_the_leader()
    {
        var token = TestContext.Current.CancellationToken;
        await using var installed = await KwarmTestCluster.StartAsync(new SimulatorOptions { Nodes = 3, TimeFactor = 0.01 });
        // A simulated minute to pull keeps the hold in place while the test scrapes.
        installed.Cluster.Registry.SetSlow("registry.local/shop/web:1.2", 12_000);
        var kwarm = await installed.StartKwarmAsync();
        var kubectl = installed.Kubectl;
        await kubectl.SucceedAsync("create", "namespace", "shop");
        await WebhookEndToEndTests.ApplyAsync(kubectl, EndToEndFiles.Policy);
        await WebhookEndToEndTests.ApplyAsync(kubectl, EndToEndFiles.Deployment("registry.local/shop/web:1.1"));
        await WebhookEndToEndTests.WaitForPolicyInWebhookAsync(kubectl, "web");
        await kubectl.SucceedAsync("-n", "shop", "set", "image", "deployment/web", "web=registry.local/shop/web:1.2");

        using var http = new HttpClient();
        var body = "";
        Dictionary<(string Name, string Labels), double> samples = [];
        for (var attempt = 0; attempt < 200; attempt++)
        {
            body = await http.GetStringAsync(kwarm.MetricsUri, token);
            samples = Samples(body);
            if (samples.GetValueOrDefault(("kwarm_controller_reconcile_time_seconds_count", "controller=\"holds\"")) > 0 &&
                samples.GetValueOrDefault(("kwarm_controller_reconcile_time_seconds_count", "controller=\"pulls\"")) > 0)
            {
                break;
            }

            await Task.Delay(50, token);
        }

        var held = await installed.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "shop", cancellationToken: token);
        Assert.True(held.Spec.Paused, "the rollout is no longer held: the scrape did not happen during a hold");
        foreach (var family in RuntimeFamilies)
        {
            Assert.Contains($"# TYPE {family}\n", body, StringComparison.Ordinal);
        }

        // A held Deployment's reconcile asks to look again at the hold's deadline: counted as a requeue.
        Assert.True(
            samples[("kwarm_controller_reconcile_total", "controller=\"holds\",result=\"success\"")] +
            samples[("kwarm_controller_reconcile_total", "controller=\"holds\",result=\"requeue\"")] > 0, body);
        Assert.True(samples[("kwarm_controller_reconcile_time_seconds_count", "controller=\"holds\"")] > 0, body);
        Assert.True(samples[("kwarm_workqueue_adds_total", "name=\"holds\"")] > 0, body);
        Assert.True(samples[("kwarm_workqueue_queue_duration_seconds_count", "name=\"holds\"")] > 0, body);
        Assert.True(samples[("kwarm_controller_reconcile_time_seconds_count", "controller=\"pulls\"")] > 0, body);
        Assert.Equal(1, samples[("kwarm_leader_election_master_status", "name=\"kwarm-leader\"")]);
        Assert.Contains(samples.Keys, series => series.Name == "kwarm_informer_restarts_total" &&
            series.Labels.Contains("resource=\"deployments\"", StringComparison.Ordinal) && series.Labels.Contains("reason=\"expired\"", StringComparison.Ordinal));
    }

    /// <summary>Sample values keyed by series name and its labels other than the exporter's own <c>otel_scope_*</c> ones.</summary>
    private static Dictionary<(string Name, string Labels), double> Samples(string body)
    {
        var samples = new Dictionary<(string, string), double>();
        foreach (Match sample in SampleLine().Matches(body))
        {
            var labels = string.Join(",", sample.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Where(label => !label.StartsWith("otel_scope_", StringComparison.Ordinal)));
            samples[(sample.Groups["name"].Value, labels)] = double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return samples;
    }

    [GeneratedRegex(@"^(?<name>kwarm_[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
