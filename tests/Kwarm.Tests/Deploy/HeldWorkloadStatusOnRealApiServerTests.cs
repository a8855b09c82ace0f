using System.Text.RegularExpressions;
using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.Noop;
using Kwarm.Tests.RealApiServer;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// What the README says <c>kubectl</c> does with a held StatefulSet or DaemonSet, checked with the real kubectl against a
/// real API server and its StatefulSet controller: the words kubectl prints are the README's, and the README's
/// commands wait for the release (not before it) and then for the rollout.
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class HeldWorkloadStatusOnRealApiServerTests(RealControlPlaneFixture fixture)
{
    private const string StatefulSetDuringHold = "partitioned roll out complete: 0 new pods have been updated...";
    private const string DaemonSetDuringHold = "error: rollout status is only available for RollingUpdate strategy type";

    private static readonly string Readme = File.ReadAllText(Manifests.InRepository("README.md"));

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rollout_status_of_held_workloads_prints_what_the_readme_quotes()
    {
        var plane = fixture.Require();
        var kubectl = new Testing.Kubectl(plane.AdminKubeconfig);
        await kubectl.SucceedAsync("create", "namespace", "held-status");
        await CreateAsync(plane, kubectl, HeldWorkloads("held-status"));

        // The controller has to observe the held spec first; until then rollout status says so and waits.
        var statefulSet = await kubectl.RunAsync("-n", "held-status", "rollout", "status", "statefulset/db", "--timeout=60s");
        var daemonSet = await kubectl.RunAsync("-n", "held-status", "rollout", "status", "daemonset/agent", "--timeout=60s");

        Assert.True(statefulSet.ExitCode == 0, statefulSet.ToString());
        Assert.Contains(StatefulSetDuringHold, statefulSet.Out, StringComparison.Ordinal);
        Assert.NotEqual(0, daemonSet.ExitCode);
        Assert.Contains(DaemonSetDuringHold, daemonSet.Error, StringComparison.Ordinal);
        var section = ReadmeTests.Section(Readme, "## How a hold works");
        Assert.Contains($"`{StatefulSetDuringHold}`", section, StringComparison.Ordinal);
        Assert.Contains($"`{DaemonSetDuringHold}`", section, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("statefulset", "db")]
    [InlineData("daemonset", "agent")]
    public async Task The_readmes_commands_wait_for_the_release_then_the_rollout(string kind, string name)
    {
        var plane = fixture.Require();
        var kubectl = new Testing.Kubectl(plane.AdminKubeconfig);
        // The README's commands name no namespace: they run in the kubeconfig's, default.
        await CreateAsync(plane, kubectl, kind == "statefulset" ? HeldStatefulSet("default") : HeldDaemonSet("default"));
        // The README shows them for StatefulSet db and says a DaemonSet's are the same with its kind.
        var commands = ReadmeWaitCommands().Replace("statefulset", kind, StringComparison.Ordinal).Replace("db", name, StringComparison.Ordinal);

        // Held: the wait does not end (a short timeout in place of the README's).
        var held = await RunAsync(plane, ShortTimeout().Replace(commands, "--timeout=3s"));
        Assert.NotEqual(0, held.ExitCode);
        Assert.Contains("timed out waiting for the condition", held.StandardError, StringComparison.Ordinal);

        // As a user would: the commands start during the hold, and Kwarm's release patch (the user's value back,
        // kwarm.io/released: <id>) lands while kubectl wait waits.
        var waiting = RunAsync(plane, commands);
        await Testing.Eventually.WaitUntilAsync(() => KubectlRunning("wait", $"{kind}/{name}") || waiting.IsCompleted, "the README's kubectl wait running", TimeSpan.FromSeconds(60));
        Assert.False(waiting.IsCompleted, waiting.IsCompleted ? (await waiting).ToString() : "");
        var release = kind == "statefulset"
            ? """[{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"ab12cd34"},{"op":"add","path":"/spec/updateStrategy/rollingUpdate/partition","value":0},{"op":"remove","path":"/metadata/annotations/kwarm.io~1hold"},{"op":"remove","path":"/metadata/annotations/kwarm.io~1partition"},{"op":"add","path":"/metadata/annotations/kwarm.io~1released","value":"ab12cd34"}]"""
            : """[{"op":"test","path":"/metadata/annotations/kwarm.io~1hold","value":"ab12cd34"},{"op":"add","path":"/spec/updateStrategy","value":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}},{"op":"remove","path":"/metadata/annotations/kwarm.io~1hold"},{"op":"remove","path":"/metadata/annotations/kwarm.io~1update-strategy"},{"op":"add","path":"/metadata/annotations/kwarm.io~1released","value":"ab12cd34"}]""";
        await kubectl.SucceedAsync("patch", kind, name, "--type=json", "-p", release);
        var released = await waiting;

        Assert.True(released.ExitCode == 0, released.ToString());
        Assert.Contains($"{kind}.apps/{name} condition met", released.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(kind == "statefulset" ? "partitioned roll out complete" : $"daemon set \"{name}\" successfully rolled out", released.StandardOutput, StringComparison.Ordinal);
        await kubectl.SucceedAsync("delete", kind, name, "--wait=false");
    }

    /// <summary>Whether a kubectl process with these arguments runs on this machine (read from /proc).</summary>
    private static bool KubectlRunning(params string[] arguments)
    {
        var wanted = string.Join('\0', arguments);
        foreach (var process in Directory.GetDirectories("/proc").Where(path => Path.GetFileName(path).All(char.IsAsciiDigit)))
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(process, "cmdline"));
                if (commandLine.Contains("kubectl\0", StringComparison.Ordinal) && commandLine.Contains(wanted, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
            catch (UnauthorizedAccessException)
            {
                // Another user's process: never ours.
            }
        }

        return false;
    }

    /// <summary>The README's three commands that wait for a StatefulSet's release and then its rollout.</summary>
    private static string ReadmeWaitCommands()
    {
        var section = ReadmeTests.Section(Readme, "## How a hold works");
        var block = WaitBlock().Match(section);
        Assert.True(block.Success, "the README shows no ```bash block with kubectl wait for a StatefulSet");
        return block.Groups["body"].Value;
    }

    private static Task<ProcessRun> RunAsync(ControlPlane plane, string commands)
    {
        var home = Path.Combine(plane.Directory, "held-status-home");
        Directory.CreateDirectory(home);
        return ProcessRun.StartAsync("/usr/bin/env", [$"KUBECONFIG={plane.AdminKubeconfig}", $"HOME={home}", "sh", "-ec", commands], plane.Directory, Token);
    }

    private static async Task CreateAsync(ControlPlane plane, Testing.Kubectl kubectl, string yaml)
    {
        var path = Path.Combine(plane.Directory, $"held-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, yaml, Token);
        await kubectl.SucceedAsync("create", "-f", path);
    }

    /// <summary>Workloads as Kwarm's webhook leaves them during a hold; no pods (no replicas, no nodes).</summary>
    private static string HeldWorkloads(string ns) => HeldStatefulSet(ns) + "---\n" + HeldDaemonSet(ns);

    private static string HeldStatefulSet(string ns) => $$$"""
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: db
          namespace: {{{ns}}}
          annotations: {kwarm.io/hold: ab12cd34, kwarm.io/partition: "0"}
        spec:
          serviceName: db
          replicas: 0
          updateStrategy:
            type: RollingUpdate
            rollingUpdate:
              partition: 2147483647
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: db, image: "registry.local/shop/db:2"}]}

        """;

    private static string HeldDaemonSet(string ns) => $$$"""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
          namespace: {{{ns}}}
          annotations:
            kwarm.io/hold: ab12cd34
            kwarm.io/update-strategy: '{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}'
        spec:
          updateStrategy: {type: OnDelete}
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            # No node runs it: the shared control plane may hold nodes of earlier tests whose kubelets are gone, and a
            # daemon pod on one of them never turns Ready, so rollout status would wait forever.
            spec: {nodeSelector: {kwarm.io/no-such-node: "true"}, containers: [{name: agent, image: "registry.local/infra/agent:2"}]}

        """;

    [GeneratedRegex(@"```bash\n(?<body>hold=\$\(kubectl get statefulset[^`]*?kubectl wait statefulset/[^`]*?kubectl rollout status statefulset/[^`]*?)```")]
    private static partial Regex WaitBlock();

    [GeneratedRegex(@"--timeout=\S+")]
    private static partial Regex ShortTimeout();
}
