using System.Text.Json.Nodes;
using Kwarm.Tests.Noop;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The uninstall script (the chart's pre-delete hook, and the documented command for kubectl users), run by
/// <c>sh</c> against a fake <c>kubectl</c> that keeps Deployments' holds in a file.
/// </summary>
[Trait("Lane", "Packaging")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReleaseHoldsScriptTests : IDisposable
{
    // The fake answers the script's calls: `get deployments -A -o jsonpath=…` prints "namespace name hold" lines,
    // `annotate … kwarm.io/release=true` releases (when Kwarm is "running"), `patch --type=json -p PATCH` records the
    // patch and releases unless told to fail.
    private const string FakeKubectl = """
        #!/bin/sh
        here=$(dirname "$0")
        state="$here/state"
        printf '%s\n' "$*" >> "$here/calls"
        release() { awk -v ns="$1" -v name="$2" '$1 == ns && $2 == name { $3 = "-" } { print }' "$state" > "$state.new" && mv "$state.new" "$state"; }
        case "$1" in
          get)
            [ -e "$here/get-fails" ] && { echo "the server is unreachable" >&2; exit 1; }
            awk '{ printf "%s %s %s\n", $1, $2, ($3 == "-" ? "" : $3) }' "$state" ;;
          annotate)
            case "$*" in *kwarm.io/release=true*) if [ -e "$here/kwarm-running" ]; then release "$4" "$5"; fi ;; esac ;;
          patch)
            printf '%s' "$8" > "$here/patch-$4-$5.json"
            [ -e "$here/patch-fails" ] && { echo "the request is invalid" >&2; exit 1; }
            release "$4" "$5" ;;
          delete) ;;
          *) echo "unexpected kubectl $*" >&2; exit 3 ;;
        esac
        """;

    private readonly DirectoryInfo _bin = Directory.CreateTempSubdirectory("kwarm-fake-kubectl-");

    public ReleaseHoldsScriptTests()
    {
        var kubectl = Path.Combine(_bin.FullName, "kubectl");
        File.WriteAllText(kubectl, FakeKubectl.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(kubectl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(_bin.FullName, "state"), "shop web 1a2b3c4d\nshop api -\npayments checkout 9f8e7d6c\n");
    }

    public void Dispose() => _bin.Delete(recursive: true);

    [Fact]
    public async Task Running_kwarm_is_asked_to_release_every_held_deployment_and_nothing_is_patched()
    {
        Touch("kwarm-running");

        var run = await RunScriptAsync(timeoutSeconds: 30);

        Assert.True(run.ExitCode == 0, run.ToString());
        var annotations = Calls().Where(call => call.StartsWith("annotate", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["annotate deployment --namespace shop web kwarm.io/release=true --overwrite", "annotate deployment --namespace payments checkout kwarm.io/release=true --overwrite"],
            annotations);
        Assert.Empty(Directory.GetFiles(_bin.FullName, "patch-*"));
        Assert.Contains("no Deployment is held by Kwarm", run.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_kwarm_the_script_releases_each_hold_itself_with_a_patch_that_tests_the_hold_id()
    {
        var run = await RunScriptAsync(timeoutSeconds: 0);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["patch-payments-checkout.json", "patch-shop-web.json"], Directory.GetFiles(_bin.FullName, "patch-*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var patch = JsonNode.Parse(File.ReadAllText(Path.Combine(_bin.FullName, "patch-shop-web.json")))!.AsArray();
        Assert.Equal(
            [
                """{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"1a2b3c4d"}""",
                """{"op":"replace","path":"/spec/paused","value":false}""",
                """{"op":"remove","path":"/metadata/annotations/kwarm.io~1hold"}""",
                """{"op":"add","path":"/metadata/annotations/kwarm.io~1released","value":"1a2b3c4d"}""",
            ],
            patch.Select(operation => operation!.ToJsonString()));
        // The Deployment that was not held is never touched.
        Assert.DoesNotContain(Calls(), call => call.Contains(" api ", StringComparison.Ordinal));
        // Without WEBHOOK_CONFIGURATION the webhook is left alone.
        Assert.DoesNotContain(Calls(), call => call.StartsWith("delete", StringComparison.Ordinal));
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
        Assert.Contains("shop web 1a2b3c4d", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("payments checkout 9f8e7d6c", run.StandardError, StringComparison.Ordinal);
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
