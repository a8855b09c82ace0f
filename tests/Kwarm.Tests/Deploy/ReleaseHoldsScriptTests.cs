using System.Text.Json.Nodes;
using Kwarm.Tests.Noop;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The uninstall script (the chart's pre-delete hook, and the documented command for kubectl users), run by
/// <c>sh</c> against a fake <c>kubectl</c> that keeps the holds of Deployments, StatefulSets and DaemonSets in a file.
/// <see cref="ReleaseHoldsScriptOnRealApiServerTests"/> runs it against a real API server with the hook's own rights.
/// </summary>
[Trait("Lane", "Packaging")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReleaseHoldsScriptTests : IDisposable
{
    // The fake answers the script's calls: `get deployments|statefulsets|daemonsets -A -o jsonpath=…` prints
    // "namespace name hold" lines of that kind, `get statefulset|daemonset --namespace NS NAME -o jsonpath=…` prints the
    // file details-KIND-NS-NAME (what the test says the object carries), `annotate … kwarm.io/release=true` releases
    // (when Kwarm is "running"), `patch KIND --namespace NS NAME --type=json -p PATCH` records the patch and releases
    // unless told to fail.
    private const string FakeKubectl = """
        #!/bin/sh
        here=$(dirname "$0")
        state="$here/state"
        printf '%s\n' "$*" >> "$here/calls"
        release() { awk -v kind="$1" -v ns="$2" -v name="$3" '$1 == kind && $2 == ns && $3 == name { $4 = "-" } { print }' "$state" > "$state.new" && mv "$state.new" "$state"; }
        case "$1" in
          get)
            [ -e "$here/get-fails" ] && { echo "the server is unreachable" >&2; exit 1; }
            case "$2" in
              *s) awk -v kind="${2%s}" '$1 == kind { printf "%s %s %s\n", $2, $3, ($4 == "-" ? "" : $4) }' "$state" ;;
              *) cat "$here/details-$2-$4-$5" ;;
            esac ;;
          annotate)
            case "$*" in *kwarm.io/release=true*) if [ -e "$here/kwarm-running" ]; then release "$2" "$4" "$5"; fi ;; esac ;;
          patch)
            printf '%s' "$8" > "$here/patch-$2-$4-$5.json"
            [ -e "$here/patch-fails" ] && { echo "the request is invalid" >&2; exit 1; }
            release "$2" "$4" "$5" ;;
          delete) ;;
          *) echo "unexpected kubectl $*" >&2; exit 3 ;;
        esac
        """;

    private const string TestHold = """{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"%"}""";
    private const string RemoveHold = """{"op":"remove","path":"/metadata/annotations/kwarm.io~1hold"}""";
    private const string RemovePolicy = """{"op":"remove","path":"/metadata/annotations/kwarm.io~1policy"}""";
    private const string Released = """{"op":"add","path":"/metadata/annotations/kwarm.io~1released","value":"%"}""";
    private const string DefaultStrategy = """{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}""";

    private readonly DirectoryInfo _bin = Directory.CreateTempSubdirectory("kwarm-fake-kubectl-");

    public ReleaseHoldsScriptTests()
    {
        var kubectl = Path.Combine(_bin.FullName, "kubectl");
        File.WriteAllText(kubectl, FakeKubectl.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(kubectl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(_bin.FullName, "state"), """
            deployment shop web 1a2b3c4d
            deployment shop api -
            deployment payments checkout 9f8e7d6c
            statefulset data db 5e5e5e5e
            statefulset data plain -
            daemonset infra agent 7c7c7c7c

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        // As the webhook leaves them: the policy, and the user's values it recorded.
        Details("statefulset", "data", "db", "basic", "2147483647", "1");
        Details("daemonset", "infra", "agent", "basic", """{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"10%","maxSurge":0}}""");
    }

    public void Dispose() => _bin.Delete(recursive: true);

    [Fact]
    public async Task Running_kwarm_is_asked_to_release_every_held_workload_and_nothing_is_patched()
    {
        Touch("kwarm-running");

        var run = await RunScriptAsync(timeoutSeconds: 30);

        Assert.True(run.ExitCode == 0, run.ToString());
        var annotations = Calls().Where(call => call.StartsWith("annotate", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "annotate deployment --namespace shop web kwarm.io/release=true --overwrite",
                "annotate deployment --namespace payments checkout kwarm.io/release=true --overwrite",
                "annotate statefulset --namespace data db kwarm.io/release=true --overwrite",
                "annotate daemonset --namespace infra agent kwarm.io/release=true --overwrite",
            ],
            annotations);
        Assert.Empty(Directory.GetFiles(_bin.FullName, "patch-*"));
        Assert.Contains("no Deployment, StatefulSet or DaemonSet is held by Kwarm", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_kwarm_the_script_releases_each_hold_itself_with_a_patch_that_tests_the_hold_id()
    {
        var run = await RunScriptAsync(timeoutSeconds: 0);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(
            ["patch-daemonset-infra-agent.json", "patch-deployment-payments-checkout.json", "patch-deployment-shop-web.json", "patch-statefulset-data-db.json"],
            Directory.GetFiles(_bin.FullName, "patch-*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(
            [
                Hold(TestHold, "1a2b3c4d"),
                """{"op":"replace","path":"/spec/paused","value":false}""",
                RemoveHold,
                Hold(Released, "1a2b3c4d"),
            ],
            Patch("deployment", "shop", "web"));
        // The contract's StatefulSet release: the recorded partition back, every hold annotation out, released in.
        Assert.Equal(
            [
                Hold(TestHold, "5e5e5e5e"),
                """{"op":"add","path":"/spec/updateStrategy/rollingUpdate/partition","value":1}""",
                RemoveHold,
                RemovePolicy,
                """{"op":"remove","path":"/metadata/annotations/kwarm.io~1partition"}""",
                Hold(Released, "5e5e5e5e"),
            ],
            Patch("statefulset", "data", "db"));
        // The DaemonSet's: the user's exact strategy back.
        Assert.Equal(
            [
                Hold(TestHold, "7c7c7c7c"),
                """{"op":"add","path":"/spec/updateStrategy","value":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"10%","maxSurge":0}}}""",
                RemoveHold,
                RemovePolicy,
                """{"op":"remove","path":"/metadata/annotations/kwarm.io~1update-strategy"}""",
                Hold(Released, "7c7c7c7c"),
            ],
            Patch("daemonset", "infra", "agent"));
        // The workloads that were not held are never touched.
        Assert.DoesNotContain(Calls(), call => call.Contains(" api ", StringComparison.Ordinal) || call.Contains(" plain ", StringComparison.Ordinal));
        // Without WEBHOOK_CONFIGURATION the webhook is left alone.
        Assert.DoesNotContain(Calls(), call => call.StartsWith("delete", StringComparison.Ordinal));
        Assert.Empty(run.StandardError);
    }

    /// <summary>
    /// What the StatefulSet patch restores, from the annotations the object carries: policy, the partition now (empty:
    /// absent) and the recorded one (empty: the annotation is absent).
    /// </summary>
    [Theory]
    [InlineData("basic", "2147483647", "0", """{"op":"add","path":"/spec/updateStrategy/rollingUpdate/partition","value":0}""", true, false)]
    [InlineData("basic", "2147483647", "none", """{"op":"remove","path":"/spec/updateStrategy/rollingUpdate/partition"}""", true, false)]
    // "none" with no partition left: a remove of nothing would fail the whole patch, so there is none.
    [InlineData("basic", "", "none", null, true, false)]
    // Edited by hand: the API default, and a warning.
    [InlineData("basic", "2147483647", "three", """{"op":"add","path":"/spec/updateStrategy/rollingUpdate/partition","value":0}""", true, true)]
    [InlineData("basic", "2147483647", "2147483648", """{"op":"add","path":"/spec/updateStrategy/rollingUpdate/partition","value":0}""", true, true)]
    [InlineData("", "2147483647", "", """{"op":"add","path":"/spec/updateStrategy/rollingUpdate/partition","value":0}""", false, true)]
    public async Task StatefulSet_release_restores_the_recorded_partition_and_removes_only_annotations_that_are_there(
        string policy, string partitionNow, string recorded, string? restore, bool removesRecord, bool warns)
    {
        Details("statefulset", "data", "db", policy, partitionNow, recorded);

        var run = await RunScriptAsync(timeoutSeconds: 0);

        Assert.True(run.ExitCode == 0, run.ToString());
        List<string> expected = [Hold(TestHold, "5e5e5e5e"), .. restore is null ? [] : new[] { restore }, RemoveHold];
        if (policy.Length > 0)
        {
            expected.Add(RemovePolicy);
        }

        if (removesRecord)
        {
            expected.Add("""{"op":"remove","path":"/metadata/annotations/kwarm.io~1partition"}""");
        }

        expected.Add(Hold(Released, "5e5e5e5e"));
        Assert.Equal(expected, Patch("statefulset", "data", "db"));
        Assert.Equal(warns, run.StandardError.Contains("warning: data/db has no usable kwarm.io/partition", StringComparison.Ordinal));
    }

    /// <summary>
    /// The recorded DaemonSet strategy goes back as it is when it is one JSON object; anything else (missing, not JSON,
    /// or text that would add operations to the patch) restores the API default instead.
    /// </summary>
    [Theory]
    [InlineData("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":"25%"}}""", false)]
    [InlineData("""{"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 3}}""", false)]
    [InlineData("rolling please", true)]
    [InlineData("""{"type":"RollingUpdate"}""" + "\n" + """{"type":"OnDelete"}""", true)]
    [InlineData("""{"type":"RollingUpdate"},{"op":"replace","path":"","value":{}}""", true)]
    [InlineData("""{"type":"RollingUpdate","x":"}"},{"op":"remove","path":"/spec/template"}""", true)]
    [InlineData("""{"type":"RollingUpdate","x":"{"},{"op":"remove","path":"","value":{}}""", true)]
    [InlineData("", true)]
    public async Task DaemonSet_release_restores_the_recorded_strategy_only_when_it_is_one_object(string recorded, bool defaulted)
    {
        Details("daemonset", "infra", "agent", "basic", recorded);

        var run = await RunScriptAsync(timeoutSeconds: 0);

        Assert.True(run.ExitCode == 0, run.ToString());
        var patch = Patch("daemonset", "infra", "agent");
        var strategy = JsonNode.Parse(patch[1])!;
        Assert.Equal("add", strategy["op"]!.GetValue<string>());
        Assert.Equal("/spec/updateStrategy", strategy["path"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(defaulted ? DefaultStrategy : recorded), strategy["value"]), patch[1]);
        Assert.Equal(defaulted, run.StandardError.Contains("warning: infra/agent has no usable kwarm.io/update-strategy", StringComparison.Ordinal));
        // Never more than the contract's operations; the record's own remove only when there was one.
        Assert.Equal(recorded.Length > 0 ? 6 : 5, patch.Count);
        Assert.Equal(Hold(Released, "7c7c7c7c"), patch[^1]);
    }

    [Fact]
    public async Task The_webhook_configuration_is_deleted_before_any_release_when_named()
    {
        Touch("kwarm-running");

        var run = await RunScriptAsync(timeoutSeconds: 30, webhookConfiguration: "kwarm");

        Assert.True(run.ExitCode == 0, run.ToString());
        var calls = Calls();
        var delete = calls.IndexOf("delete mutatingwebhookconfiguration kwarm --ignore-not-found");
        Assert.True(delete >= 0, string.Join('\n', calls));
        Assert.True(delete < calls.FindIndex(call => call.StartsWith("annotate", StringComparison.Ordinal)), string.Join('\n', calls));
    }

    [Fact]
    public async Task Holds_that_cannot_be_released_are_listed_and_fail_the_script()
    {
        Touch("patch-fails");

        var run = await RunScriptAsync(timeoutSeconds: 0);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("deployment shop web 1a2b3c4d", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("deployment payments checkout 9f8e7d6c", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("statefulset data db 5e5e5e5e", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("daemonset infra agent 7c7c7c7c", run.StandardError, StringComparison.Ordinal);
        // A failed release removes nothing: the annotations may belong to a newer hold, and the recorded value is its way back.
        Assert.DoesNotContain(Calls(), call => call.Contains("kwarm.io/policy-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_workload_that_cannot_be_read_is_left_held_and_listed()
    {
        File.Delete(Path.Combine(_bin.FullName, "details-statefulset-data-db"));

        var run = await RunScriptAsync(timeoutSeconds: 0);

        Assert.Equal(1, run.ExitCode);
        Assert.False(File.Exists(Path.Combine(_bin.FullName, "patch-statefulset-data-db.json")));
        Assert.Contains("statefulset data db 5e5e5e5e", run.StandardError, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_bin.FullName, "patch-daemonset-infra-agent.json")));
    }

    [Fact]
    public async Task A_kubectl_that_cannot_list_deployments_fails_the_script_before_any_change()
    {
        Touch("get-fails");

        var run = await RunScriptAsync(timeoutSeconds: 0);

        Assert.NotEqual(0, run.ExitCode);
        Assert.DoesNotContain(Calls(), call => !call.StartsWith("get", StringComparison.Ordinal));
        Assert.Contains("the server is unreachable", run.StandardError, StringComparison.Ordinal);
    }

    private void Touch(string name) => File.WriteAllText(Path.Combine(_bin.FullName, name), "");

    /// <summary>What `kubectl get KIND --namespace NS NAME -o jsonpath=…` prints: one value per line, as the script asks.</summary>
    private void Details(string kind, string ns, string name, params string[] lines) =>
        File.WriteAllText(Path.Combine(_bin.FullName, $"details-{kind}-{ns}-{name}"), string.Join('\n', lines));

    private List<string> Patch(string kind, string ns, string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(_bin.FullName, $"patch-{kind}-{ns}-{name}.json")))!.AsArray()
            .Select(operation => operation!.ToJsonString()).ToList();

    private static string Hold(string operation, string id) => operation.Replace("%", id, StringComparison.Ordinal);

    private List<string> Calls()
    {
        var path = Path.Combine(_bin.FullName, "calls");
        return File.Exists(path) ? File.ReadAllLines(path).ToList() : [];
    }

    private Task<ProcessRun> RunScriptAsync(int timeoutSeconds, string webhookConfiguration = "")
    {
        var script = Path.Combine(Manifests.ChartDirectory, "files", "release-holds.sh");
        var path = _bin.FullName + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        return ProcessRun.StartAsync("/usr/bin/env", [$"PATH={path}", $"TIMEOUT_SECONDS={timeoutSeconds}", $"WEBHOOK_CONFIGURATION={webhookConfiguration}", "sh", script], _bin.FullName, TestContext.Current.CancellationToken);
    }
}
