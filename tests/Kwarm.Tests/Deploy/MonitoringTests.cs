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

    /// <summary>
    /// Issue #17: a node still carrying the warming taint past the default maxDuration plus 5 minutes. Read from
    /// kube-state-metrics alone (no Kwarm series, no scrape of Kwarm), so it fires when Kwarm is gone, which is when a
    /// tainted node stays tainted; and it tells how to lift the taint by hand.
    /// </summary>
    [Fact]
    public void Node_warming_alert_fires_from_kube_state_metrics_past_the_default_max_duration_plus_five_minutes()
    {
        var rule = Manifests.Parse(File.ReadAllText(Monitoring("prometheus-rule.yaml"))).Single();
        var alert = rule["spec"]!["groups"]!.AsArray().SelectMany(group => group!["rules"]!.AsArray())
            .Single(item => Manifests.Str(item!["alert"]) == "KwarmNodeWarmingTooLong")!;
        var expression = Manifests.Str(alert["expr"])!;

        Assert.Contains($"kube_node_spec_taint{{key=\"{Kwarm.Resources.KwarmApi.WarmingTaintKey}\"}}", expression, StringComparison.Ordinal);
        Assert.Contains("time() - max by (node) (kube_node_created)", expression, StringComparison.Ordinal);
        Assert.Contains("on (node)", expression, StringComparison.Ordinal);
        Assert.Empty(KwarmSeries().Matches(expression));
        Assert.DoesNotContain("up{", expression, StringComparison.Ordinal);
        Assert.Null(alert["for"]);

        var threshold = Assert.Single(Threshold().Matches(expression));
        var expected = new Kwarm.Resources.NodeWarmupSpec().EffectiveMaxDuration + TimeSpan.FromMinutes(5);
        Assert.Equal(expected.TotalSeconds, double.Parse(threshold.Groups["seconds"].Value, System.Globalization.CultureInfo.InvariantCulture));

        var description = Manifests.Str(alert["annotations"]!["description"])!;
        Assert.Contains($"kubectl taint node NODE {Kwarm.Resources.KwarmApi.WarmingTaintKey}-", description, StringComparison.Ordinal);
        Assert.Contains("maxDuration", description, StringComparison.Ordinal);
        Assert.Contains("docs/warm-nodes.md", description, StringComparison.Ordinal);
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

        var used = DashboardMetrics(dashboard);

        // Kwarm's own metrics and the controller runtime's (queues, reconciles, leader election, informers) alike.
        Assert.Equal(KwarmInstruments.All.Keys.Order(StringComparer.Ordinal), used.Order(StringComparer.Ordinal));
        Assert.Contains("kwarm_workqueue_depth", used);
    }

    [Theory]
    [InlineData("max(kwarm_workqueue_depths)")]
    [InlineData("sum(rate(kwarm_controller_reconciles_total[5m]))")]
    [InlineData("kwarm_leader_election_master_status_bucket")]
    public void Dashboard_check_rejects_a_panel_that_names_a_metric_Kwarm_does_not_export(string expression)
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Monitoring("grafana-dashboard.json")))!;
        dashboard["panels"]!.AsArray().Add(new JsonObject
        {
            ["type"] = "timeseries",
            ["title"] = "misspelt",
            ["targets"] = new JsonArray(new JsonObject { ["expr"] = expression }),
        });

        Assert.ThrowsAny<Exception>(() => DashboardMetrics(dashboard));
    }

    [Fact]
    public void Dashboard_check_reads_the_panels_inside_a_collapsed_row_and_refuses_a_panel_without_queries()
    {
        var collapsed = new JsonObject
        {
            ["panels"] = new JsonArray(new JsonObject
            {
                ["type"] = "row",
                ["collapsed"] = true,
                ["panels"] = new JsonArray(new JsonObject { ["type"] = "stat", ["targets"] = new JsonArray(new JsonObject { ["expr"] = "max(kwarm_holds_active)" }) }),
            }),
        };
        Assert.Equal(["kwarm_holds_active"], DashboardMetrics(collapsed));

        var empty = new JsonObject { ["panels"] = new JsonArray(new JsonObject { ["type"] = "stat", ["title"] = "nothing" }) };
        Assert.ThrowsAny<Exception>(() => DashboardMetrics(empty));
    }

    /// <summary>
    /// The metrics the dashboard's queries name, every one checked to be a metric Kwarm exports. Rows hold no query of their
    /// own, but a collapsed row carries its panels inside it; any other panel without a query is refused.
    /// </summary>
    private static HashSet<string> DashboardMetrics(JsonNode dashboard)
    {
        var panels = dashboard["panels"]!.AsArray()
            .SelectMany(panel => Manifests.Str(panel!["type"]) == "row" ? panel["panels"]?.AsArray().AsEnumerable() ?? Enumerable.Empty<JsonNode?>() : new[] { panel })
            .ToList();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in panels)
        {
            var targets = panel!["targets"]?.AsArray() ?? new JsonArray();
            Assert.True(targets.Count > 0, $"panel \"{Manifests.Str(panel["title"])}\" has no query");
            foreach (var expression in targets.Select(target => Manifests.Str(target!["expr"])!))
            {
                used.UnionWith(AssertOnlyKnownSeries(expression, $"panel \"{Manifests.Str(panel["title"])}\""));
            }
        }

        Assert.NotEmpty(used);
        return used;
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

    /// <summary>A comparison with a number of seconds (<c>&gt; 900</c>).</summary>
    [GeneratedRegex(@"> (?<seconds>[0-9]+)\b")]
    private static partial Regex Threshold();
}
