using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kwarm.Tests.Deploy;

/// <summary>The alerts and the dashboard of deploy/monitoring query only metrics Kwarm exports.</summary>
public sealed partial class MonitoringTests
{
    private static readonly string[] Severities = ["critical", "warning", "info"];

    private static string Monitoring(string file) => Manifests.InRepository("deploy", "monitoring", file);

    [Fact]
    public void Alert_expressions_reference_only_kwarm_metrics_and_up()
    {
        var rule = Manifests.Parse(File.ReadAllText(Monitoring("prometheus-rule.yaml"))).Single();
        var alerts = rule["spec"]!["groups"]!.AsArray().SelectMany(group => group!["rules"]!.AsArray()).ToList();

        Assert.NotEmpty(alerts);
        foreach (var alert in alerts)
        {
            var expression = Manifests.Str(alert!["expr"])!;
            AssertOnlyKnownSeries(expression, Manifests.Str(alert["alert"])!);
            Assert.False(string.IsNullOrWhiteSpace(Manifests.Str(alert["annotations"]?["summary"])), $"{alert["alert"]} has no summary");
            Assert.Contains(Manifests.Str(alert["labels"]?["severity"]), Severities);
        }

        // Each concern of the issue has an alert: holds, pull failures, webhook errors, Kwarm gone, no leader
        // (read from kube-state-metrics' Lease renew time, since Kwarm exports no leader metric).
        var all = string.Join('\n', alerts.Select(alert => Manifests.Str(alert!["expr"])));
        Assert.Contains("kwarm_hold_duration_seconds_count{reason=\"Timeout\"}", all, StringComparison.Ordinal);
        Assert.Contains("kwarm_holds_active", all, StringComparison.Ordinal);
        Assert.Contains("kwarm_pulls_total{result=~\"failed|timeout\"}", all, StringComparison.Ordinal);
        Assert.Contains("kwarm_webhook_requests_total{decision=\"invalid\"}", all, StringComparison.Ordinal);
        Assert.Contains("up{job=\"kwarm-metrics\"}", all, StringComparison.Ordinal);
        Assert.Contains($"kube_lease_renew_time{{lease=\"{new Kwarm.Runtime.LeaderElectionOptions().LeaseName}\"}}", all, StringComparison.Ordinal);
    }

    [Fact]
    public void Alert_scrape_job_is_the_metrics_service_the_service_monitor_selects()
    {
        var monitor = Manifests.Parse(File.ReadAllText(Monitoring("service-monitor.yaml"))).Single();
        var service = Manifests.Parse(File.ReadAllText(Manifests.InRepository("deploy", "kustomize", "default", "metrics-service.yaml"))).Single();

        // The Prometheus Operator names the job after the Service.
        Assert.Equal("kwarm-metrics", Manifests.Name(service));
        foreach (var (key, value) in monitor["spec"]!["selector"]!["matchLabels"]!.AsObject())
        {
            Assert.Equal(Manifests.Str(value), Manifests.Str(service["metadata"]!["labels"]![key]));
        }

        Assert.Equal(Manifests.Str(service["spec"]!["ports"]![0]!["name"]), Manifests.Str(monitor["spec"]!["endpoints"]![0]!["port"]));
    }

    [Fact]
    public void Dashboard_queries_only_kwarm_metrics_and_shows_every_one()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Monitoring("grafana-dashboard.json")))!;
        var expressions = dashboard["panels"]!.AsArray()
            .SelectMany(panel => panel!["targets"]!.AsArray().Select(target => Manifests.Str(target!["expr"])!)).ToList();

        Assert.NotEmpty(expressions);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var expression in expressions)
        {
            used.UnionWith(AssertOnlyKnownSeries(expression, expression));
        }

        // Kwarm's own metrics; the controller runtime's (queues, reconciles, informers) are for debugging and not on the dashboard.
        Assert.Equal(KwarmInstruments.All.Keys.Except(KwarmInstruments.Runtime).Order(StringComparer.Ordinal), used.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Chart_carries_the_same_dashboard_and_rules()
    {
        Assert.Equal(File.ReadAllBytes(Monitoring("grafana-dashboard.json")), File.ReadAllBytes(Path.Combine(Manifests.ChartDirectory, "files", "grafana-dashboard.json")));
        var rule = Manifests.Parse(File.ReadAllText(Monitoring("prometheus-rule.yaml"))).Single();
        var chartRules = Manifests.Parse(File.ReadAllText(Path.Combine(Manifests.ChartDirectory, "files", "prometheus-rules.yaml"))).Single();
        Assert.True(Manifests.SameTree(rule["spec"], chartRules));
    }

    [Fact]
    public void Series_check_rejects_a_misspelt_metric()
    {
        Assert.ThrowsAny<Exception>(() => AssertOnlyKnownSeries("sum(rate(kwarm_pull_total[5m]))", "misspelt"));
        Assert.ThrowsAny<Exception>(() => AssertOnlyKnownSeries("kwarm_pulls_total_bucket", "bucket of a counter"));
        Assert.Equal(["kwarm_pull_duration_seconds"], AssertOnlyKnownSeries("kwarm_pull_duration_seconds_bucket", "bucket of a histogram"));
    }

    /// <summary>Every <c>kwarm_*</c> series named in <paramref name="expression"/> is one Kwarm exports; returns their metrics.</summary>
    private static HashSet<string> AssertOnlyKnownSeries(string expression, string where)
    {
        var metrics = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in KwarmSeries().Matches(expression))
        {
            var metric = KwarmInstruments.MetricOf(match.Value);
            Assert.True(metric is not null, $"{where}: {match.Value} is not a metric Kwarm exports");
            metrics.Add(metric);
        }

        return metrics;
    }

    [GeneratedRegex(@"\bkwarm_[a-z0-9_]+")]
    private static partial Regex KwarmSeries();
}
