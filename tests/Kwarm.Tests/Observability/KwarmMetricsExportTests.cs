using System.Net;
using System.Text.RegularExpressions;
using Kwarm.Hosting;
using Kwarm.Observability;
using Kwarm.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kwarm.Tests.Observability;

public sealed partial class KwarmMetricsExportTests
{
    [Fact]
    public async Task Metrics_endpoint_exports_every_metric_of_the_design_under_its_exact_name()
    {
        await using var kwarm = await RunningKwarm.StartAsync();
        var metrics = kwarm.Services.GetRequiredService<KwarmMetrics>();
        metrics.WebhookRequest(KwarmMetrics.Decisions.Hold, TimeSpan.FromMilliseconds(2));
        metrics.PullFinished(KwarmMetrics.PullResults.Pulled, TimeSpan.FromSeconds(12));
        metrics.HoldReleased("Warm", TimeSpan.FromSeconds(40));
        metrics.SetActivePulls(3);
        metrics.SetHoldsActive(1);
        metrics.SetPrePullImagesByPhase("InProgress", 2);
        metrics.SetWatchedDeployments("default", 5);
        metrics.NodeWarmupEnded(KwarmMetrics.WarmupResults.Warm, TimeSpan.FromSeconds(30));
        metrics.SetWarmingNodes(1);

        var body = await ScrapeAsync(kwarm);

        var families = TypeLine().Matches(body).ToDictionary(match => match.Groups["name"].Value, match => match.Groups["type"].Value, StringComparer.Ordinal);
        var kwarmFamilies = families.Where(family => family.Key.StartsWith("kwarm_", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["kwarm_pull_duration_seconds"] = "histogram",
                ["kwarm_active_pulls"] = "gauge",
                ["kwarm_pulls_total"] = "counter",
                ["kwarm_prepullimages_by_phase"] = "gauge",
                ["kwarm_watched_deployments"] = "gauge",
                ["kwarm_watched_workloads"] = "gauge",
                ["kwarm_holds_active"] = "gauge",
                ["kwarm_hold_duration_seconds"] = "histogram",
                ["kwarm_warming_nodes"] = "gauge",
                ["kwarm_node_warmup_duration_seconds"] = "histogram",
                ["kwarm_webhook_requests_total"] = "counter",
                ["kwarm_webhook_duration_seconds"] = "histogram",
            }.OrderBy(pair => pair.Key, StringComparer.Ordinal),
            kwarmFamilies.OrderBy(pair => pair.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Recorded_values_appear_with_their_labels()
    {
        await using var kwarm = await RunningKwarm.StartAsync();
        var metrics = kwarm.Services.GetRequiredService<KwarmMetrics>();
        metrics.WebhookRequest(KwarmMetrics.Decisions.Allow, TimeSpan.FromMilliseconds(1));
        metrics.WebhookRequest(KwarmMetrics.Decisions.Allow, TimeSpan.FromMilliseconds(1));
        metrics.PullFinished(KwarmMetrics.PullResults.Failed, elapsed: null);
        metrics.SetActivePulls(7);
        metrics.SetWatchedDeployments("team-a", 4);
        metrics.SetWatchedWorkloads("team-a", Kwarm.Resources.WorkloadKind.DaemonSet, 9);
        metrics.SetHoldsActive(Kwarm.Resources.WorkloadKind.StatefulSet, 3);
        metrics.HoldReleased("Timeout", TimeSpan.FromMinutes(15));
        metrics.HoldReleased("Warm", Kwarm.Resources.WorkloadKind.DaemonSet, TimeSpan.FromSeconds(30));
        metrics.WebhookRequest(KwarmMetrics.Decisions.Hold, Kwarm.Resources.WorkloadKind.StatefulSet, TimeSpan.FromMilliseconds(1));

        var samples = Samples(await ScrapeAsync(kwarm));

        Assert.Equal(2, samples[("kwarm_webhook_requests_total", "decision=\"allow\",kind=\"Deployment\"")]);
        Assert.Equal(0, samples[("kwarm_webhook_requests_total", "decision=\"hold\",kind=\"Deployment\"")]);
        Assert.Equal(1, samples[("kwarm_pulls_total", "result=\"failed\"")]);
        Assert.Equal(7, samples[("kwarm_active_pulls", "")]);
        Assert.Equal(4, samples[("kwarm_watched_deployments", "policy=\"team-a\"")]);
        Assert.Equal(4, samples[("kwarm_watched_workloads", "kind=\"Deployment\",policy=\"team-a\"")]);
        Assert.Equal(9, samples[("kwarm_watched_workloads", "kind=\"DaemonSet\",policy=\"team-a\"")]);
        Assert.Equal(3, samples[("kwarm_holds_active", "kind=\"StatefulSet\"")]);
        Assert.Equal(0, samples[("kwarm_holds_active", "kind=\"DaemonSet\"")]);
        Assert.Equal(1, samples[("kwarm_hold_duration_seconds_count", "kind=\"DaemonSet\",reason=\"Warm\"")]);
        Assert.Equal(1, samples[("kwarm_webhook_requests_total", "decision=\"hold\",kind=\"StatefulSet\"")]);
        Assert.Equal(0, samples[("kwarm_prepullimages_by_phase", "phase=\"Completed\"")]);
        Assert.Equal(1, samples[("kwarm_hold_duration_seconds_count", "kind=\"Deployment\",reason=\"Timeout\"")]);
        Assert.Equal(900, samples[("kwarm_hold_duration_seconds_sum", "kind=\"Deployment\",reason=\"Timeout\"")]);
        Assert.Equal(2, samples[("kwarm_webhook_duration_seconds_count", "decision=\"allow\"")]);
    }

    [Fact]
    public async Task Scrape_shows_only_this_hosts_meter_not_another_meter_of_the_same_name()
    {
        await using var kwarm = await RunningKwarm.StartAsync();
        await using var neighbour = await RunningKwarm.StartAsync();
        using var stray = new System.Diagnostics.Metrics.Meter(KwarmMetrics.MeterName);
        stray.CreateObservableGauge("kwarm_stray_gauge", () => 1);
        kwarm.Services.GetRequiredService<KwarmMetrics>().SetActivePulls(11);
        neighbour.Services.GetRequiredService<KwarmMetrics>().SetActivePulls(22);

        var own = Samples(await ScrapeAsync(kwarm));
        var theirs = Samples(await ScrapeAsync(neighbour));

        Assert.Equal(11, own[("kwarm_active_pulls", "")]);
        Assert.Equal(22, theirs[("kwarm_active_pulls", "")]);
        Assert.DoesNotContain(own.Keys, key => key.Name == "kwarm_stray_gauge");
    }

    [Fact]
    public async Task A_forgotten_policy_is_no_longer_exported()
    {
        await using var kwarm = await RunningKwarm.StartAsync();
        var metrics = kwarm.Services.GetRequiredService<KwarmMetrics>();
        metrics.SetWatchedDeployments("deleted", 4);
        Assert.Contains(("kwarm_watched_deployments", "policy=\"deleted\""), Samples(await ScrapeAsync(kwarm)).Keys);

        metrics.ForgetPolicy("deleted");

        Assert.DoesNotContain(("kwarm_watched_deployments", "policy=\"deleted\""), Samples(await ScrapeAsync(kwarm)).Keys);
    }

    private static async Task<string> ScrapeAsync(RunningKwarm kwarm)
    {
        using var response = await kwarm.GetAsync(KwarmListener.Metrics, "/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Sample values keyed by metric name and its labels other than the exporter's own <c>otel_scope_*</c> ones.</summary>
    private static Dictionary<(string Name, string Labels), double> Samples(string body)
    {
        var samples = new Dictionary<(string, string), double>();
        foreach (Match sample in SampleLine().Matches(body))
        {
            var labels = string.Join(",", sample.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Where(label => !label.StartsWith("otel_scope_", StringComparison.Ordinal)));
            samples[(sample.Groups["name"].Value, labels)] = double.Parse(sample.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return samples;
    }

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^(?<name>kwarm_[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
