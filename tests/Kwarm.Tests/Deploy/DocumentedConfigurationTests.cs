using System.Reflection;
using System.Text.Json.Nodes;
using Kwarm.Holds;
using Kwarm.Hosting;
using Kwarm.Observability;
using Kwarm.Resources;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The README's configuration tables (resources, flags, metrics), docs/configuration.md's chart-value table and the
/// chart's values say what the code does, and nothing it does not.
/// </summary>
public sealed class DocumentedConfigurationTests
{
    private static string Readme => Manifests.InRepository("README.md");

    private static string ConfigurationDoc => Manifests.InRepository("docs", "configuration.md");

    /// <summary>Chart values that differ from the operator's own defaults on purpose (each explained in values.yaml).</summary>
    private static readonly string[] ChartOverriddenDefaults = ["leaderElect", "namespace", "toolsImage", "logFormat"];

    [Fact]
    public void Every_flag_is_a_chart_value_and_every_chart_flag_value_is_a_flag()
    {
        var chartFlags = ChartFlagValues();

        Assert.Equal(KwarmFlags.All.Select(ChartKey).Order(StringComparer.Ordinal), chartFlags.Select(pair => pair.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Chart_flag_values_are_accepted_by_the_operator_and_keep_its_defaults()
    {
        var chartFlags = ChartFlagValues();
        var defaults = new KwarmOptions();

        foreach (var flag in KwarmFlags.All)
        {
            var raw = Manifests.Str(chartFlags[ChartKey(flag)]) ?? "";
            if (raw.Length == 0 && ChartOverriddenDefaults.Contains(ChartKey(flag)))
            {
                continue;
            }

            var options = new KwarmOptions();
            Assert.True(flag.TryApply(raw, options), $"--{flag.Name}={raw} from values.yaml is rejected: expected {flag.Expected}");
            if (!ChartOverriddenDefaults.Contains(ChartKey(flag)))
            {
                Assert.Equal(flag.Show(defaults), flag.Show(options));
            }
        }
    }

    [Fact]
    public void Chart_deployment_passes_every_flag_with_a_value_the_operator_accepts()
    {
        // kubeconfig and taintNewNodes are passed only when set; set, every flag is there.
        var chart = Manifests.RenderChart(new JsonObject { ["flags"] = new JsonObject { ["kubeconfig"] = "/etc/kwarm/kubeconfig", ["taintNewNodes"] = true } });
        var container = chart.Single("Deployment", "kwarm")["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var args = container["args"]!.AsArray().Select(arg => Manifests.Str(arg)!).ToList();

        Assert.Equal(KwarmFlags.All.Count, args.Count);
        foreach (var arg in args)
        {
            var name = arg[2..arg.IndexOf('=', StringComparison.Ordinal)];
            var flag = KwarmFlags.Find(name);
            Assert.True(flag is not null, $"{arg}: no such flag");
            // kubeconfig must name an existing file, which only exists in the pod.
            if (flag.Name != "kubeconfig")
            {
                Assert.True(flag.TryApply(arg[(arg.IndexOf('=', StringComparison.Ordinal) + 1)..], new KwarmOptions()), $"{arg} is rejected: expected {flag.Expected}");
            }
        }
    }

    [Fact]
    public void Flag_table_lists_every_flag_with_its_environment_variable_chart_value_and_default()
    {
        var rows = MarkdownTable.Under(Readme, "### Flags");
        var defaults = new KwarmOptions();

        Assert.Equal(KwarmFlags.All.Select(flag => "--" + flag.Name), rows.Select(row => row[0]));
        foreach (var flag in KwarmFlags.All)
        {
            var row = rows.Single(row => row[0] == "--" + flag.Name);
            Assert.Equal(flag.EnvironmentVariable, row[1]);
            Assert.Equal("flags." + ChartKey(flag), row[2]);
            var shown = flag.Show(defaults);
            Assert.Equal(shown.Length == 0 ? "(none)" : shown, row[3]);
        }
    }

    [Fact]
    public void Metric_table_lists_every_metric_with_its_type_and_nothing_else()
    {
        var rows = MarkdownTable.Under(Readme, "### Metrics");

        Assert.Equal(KwarmInstruments.All.Keys.Order(StringComparer.Ordinal), rows.Select(row => row[0]).Order(StringComparer.Ordinal));
        foreach (var row in rows)
        {
            Assert.Equal(KwarmInstruments.All[row[0]], row[1]);
        }
    }

    /// <summary>
    /// The Labels column ("`decision` = `hold`, `allow`, `invalid`") names exactly the labels the code records, and
    /// every value list is the code's full set of values for that label.
    /// </summary>
    [Fact]
    public void Metric_table_lists_the_labels_each_metric_carries_and_their_values()
    {
        var rows = MarkdownTable.Under(Readme, "### Metrics");
        var knownValues = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["decision"] = Constants(typeof(KwarmMetrics.Decisions)),
            ["result"] = Constants(typeof(KwarmMetrics.PullResults)),
            ["phase"] = Enum.GetNames<PrePullImagePhase>(),
            ["reason"] = Enum.GetNames<ReleaseReason>(),
            ["kind"] = Enum.GetNames<WorkloadKind>(),
        };

        // The controller runtime's labels of the same names have values of their own.
        var knownValuesOfMetric = new Dictionary<(string Metric, string Label), IReadOnlyList<string>>
        {
            [("kwarm_controller_reconcile_total", "result")] = Constants(typeof(RuntimeMetrics.ReconcileResults)),
            [("kwarm_informer_restarts_total", "reason")] = Constants(typeof(RuntimeMetrics.RestartReasons)),
            [("kwarm_node_warmup_duration_seconds", "result")] = Constants(typeof(KwarmMetrics.WarmupResults)),
            // The webhook also answers /mutate/nodes (issue #17), counted under a kind that is no workload kind.
            [("kwarm_webhook_requests_total", "kind")] = [.. Enum.GetNames<WorkloadKind>(), KwarmMetrics.NodeKind],
        };

        foreach (var row in rows)
        {
            var labels = row[2].Replace("`", "", StringComparison.Ordinal).Trim();
            var documented = new Dictionary<string, IReadOnlyList<string>?>(StringComparer.Ordinal);
            if (labels.Length > 0)
            {
                foreach (var label in labels.Split(';', StringSplitOptions.TrimEntries))
                {
                    var parts = label.Split('=', 2, StringSplitOptions.TrimEntries);
                    documented[parts[0]] = parts.Length == 2 ? parts[1].Split(',', StringSplitOptions.TrimEntries) : null;
                }
            }

            Assert.Equal(KwarmInstruments.Labels[row[0]].Order(StringComparer.Ordinal), documented.Keys.Order(StringComparer.Ordinal));
            foreach (var (label, values) in documented)
            {
                if (values is not null)
                {
                    Assert.True(
                        knownValuesOfMetric.TryGetValue((row[0], label), out var expected) || knownValues.TryGetValue(label, out expected),
                        $"{row[0]}: values listed for {label}, which has no fixed set of values in the code");
                    Assert.Equal(expected.Order(StringComparer.Ordinal), values.Order(StringComparer.Ordinal));
                }
            }
        }
    }

    /// <summary>Every annotation Kwarm reads or writes on a Deployment (KwarmApi's *Annotation constants), and the opt-in label.</summary>
    [Fact]
    public void Annotation_table_lists_every_deployment_annotation_of_the_code_and_the_opt_in_label()
    {
        var rows = MarkdownTable.Under(Readme, "### Annotations and labels on Deployments");
        var documented = rows.Select(row => System.Text.RegularExpressions.Regex.Match(row[0].Replace("`", "", StringComparison.Ordinal), @"^(label|annotation) ([a-z0-9./-]+)"))
            .Select(match => (Kind: match.Groups[1].Value, Key: match.Groups[2].Value))
            .ToList();
        var annotations = typeof(KwarmApi).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.Name.EndsWith("Annotation", StringComparison.Ordinal))
            .Select(field => (string)field.GetRawConstantValue()!);

        Assert.Equal(annotations.Order(StringComparer.Ordinal), documented.Where(row => row.Kind == "annotation").Select(row => row.Key).Order(StringComparer.Ordinal));
        Assert.Equal([KwarmApi.EnabledLabel], documented.Where(row => row.Kind == "label").Select(row => row.Key));
        Assert.Equal(rows.Count, documented.Count(row => row.Kind.Length > 0));
    }

    private static string[] Constants(Type holder) =>
        holder.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .ToArray();

    [Fact]
    public void Chart_value_table_lists_every_value_but_the_flags_and_no_other()
    {
        var values = ChartTemplateRenderer.Values(Manifests.ChartDirectory);
        var paths = new List<string>();
        foreach (var (key, value) in values)
        {
            if (key == "flags")
            {
                continue;
            }

            // A map of settings is listed setting by setting; resources and free-form maps (selectors) as a whole.
            if (value is JsonObject { Count: > 0 } map && key != "resources")
            {
                paths.AddRange(map.Select(pair => $"{key}.{pair.Key}"));
            }
            else
            {
                paths.Add(key);
            }
        }

        var documented = MarkdownTable.Under(ConfigurationDoc, "## Helm chart values").Select(row => row[0]);
        Assert.Equal(paths.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("kwarm.io_prepullpolicies.yaml", "### PrePullPolicy")]
    [InlineData("kwarm.io_prepullimages.yaml", "### PrePullImage")]
    public void Resource_tables_list_every_field_of_the_crd_and_no_other(string crdFile, string heading)
    {
        var crd = Manifests.Parse(File.ReadAllText(Manifests.InRepository("deploy", "crds", crdFile))).Single();
        var schema = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;
        var fields = new List<string>();
        foreach (var root in new[] { "spec", "status" })
        {
            Collect(schema["properties"]![root]!, root, fields);
        }

        var documented = MarkdownTable.Under(Readme, heading).Select(row => row[0]).ToList();
        Assert.Equal(fields.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Kwarm's own fields: Kubernetes' generic shapes (label-selector internals, resource quantities, conditions,
    /// tolerations and secret references) are documented once by Kubernetes and not repeated.
    /// </summary>
    private static void Collect(JsonNode schema, string path, List<string> fields)
    {
        foreach (var (name, child) in schema["properties"]?.AsObject() ?? [])
        {
            if (name is "matchLabels" or "matchExpressions" or "limits" or "requests")
            {
                continue;
            }

            var childPath = $"{path}.{name}";
            fields.Add(childPath);
            if (Manifests.Str(child!["type"]) == "object")
            {
                Collect(child, childPath, fields);
            }
            else if (childPath == "status.nodes")
            {
                Collect(child["items"]!, childPath + "[]", fields);
            }
        }
    }

    private static string ChartKey(KwarmFlag flag) => char.ToLowerInvariant(flag.Property[0]) + flag.Property[1..];

    private static JsonObject ChartFlagValues() =>
        ChartTemplateRenderer.Values(Manifests.ChartDirectory)["flags"]!.AsObject();
}
