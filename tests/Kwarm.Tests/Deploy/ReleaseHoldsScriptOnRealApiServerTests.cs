using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.Noop;
using Kwarm.Tests.RealApiServer;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// The uninstall script against a real API server and the real kubectl, with exactly the rights the chart's pre-delete
/// hook gives it, Kwarm gone: every hold it finds, as the webhook left it, ends with the object the user wrote (their
/// partition, their strategy, unpaused) and <c>kwarm.io/released</c>. What the fake kubectl of
/// <see cref="ReleaseHoldsScriptTests"/> cannot show: the patches apply, and the server accepts what they restore.
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReleaseHoldsScriptOnRealApiServerTests(RealControlPlaneFixture fixture)
{
    private const string Namespace = "release-holds";
    private const string HookNamespace = "release-holds-hook";
    private const string Held = "2147483647";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_held_kind_gets_the_users_own_spec_back_and_the_released_annotation()
    {
        var plane = fixture.Require();
        var admin = new Testing.Kubectl(plane.AdminKubeconfig);
        await admin.SucceedAsync("create", "namespace", Namespace);
        await admin.SucceedAsync("create", "namespace", HookNamespace);
        var manifest = Path.Combine(plane.Directory, "release-holds-workloads.yaml");
        await File.WriteAllTextAsync(manifest, Workloads, Token);
        // create, not apply: no last-applied annotation, so the annotations left afterwards are the script's doing.
        await admin.SucceedAsync("create", "-f", manifest);
        var webhook = Path.Combine(plane.Directory, "release-holds-webhook.json");
        await File.WriteAllTextAsync(webhook, """{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"kwarm"}}""", Token);
        await admin.SucceedAsync("create", "-f", webhook);
        var hookKubeconfig = await InstallHookIdentityAsync(plane, admin);

        var run = await RunScriptAsync(plane, hookKubeconfig);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("no Deployment, StatefulSet or DaemonSet is held by Kwarm", run.StandardOutput, StringComparison.Ordinal);
        var client = plane.AdminClient;
        Assert.DoesNotContain((await client.AdmissionregistrationV1.ListMutatingWebhookConfigurationAsync(cancellationToken: Token)).Items, item => item.Metadata.Name == "kwarm");

        var web = await client.AppsV1.ReadNamespacedDeploymentAsync("web", Namespace, cancellationToken: Token);
        Assert.False(web.Spec.Paused ?? false);
        AssertReleased(web.Metadata, "aaaa1111");

        // The user's partition 1, as the webhook recorded it.
        var db = await client.AppsV1.ReadNamespacedStatefulSetAsync("db", Namespace, cancellationToken: Token);
        Assert.Equal(1, db.Spec.UpdateStrategy.RollingUpdate.Partition);
        AssertReleased(db.Metadata, "bbbb2222");

        // No partition of their own: the hold's is removed, and the API server's default (0) is what rolls.
        var cache = await client.AppsV1.ReadNamespacedStatefulSetAsync("cache", Namespace, cancellationToken: Token);
        Assert.Equal(0, cache.Spec.UpdateStrategy.RollingUpdate.Partition);
        AssertReleased(cache.Metadata, "cccc3333");

        // A partition staged by hand, never held: untouched.
        var staged = await client.AppsV1.ReadNamespacedStatefulSetAsync("staged", Namespace, cancellationToken: Token);
        Assert.Equal(5, staged.Spec.UpdateStrategy.RollingUpdate.Partition);
        Assert.DoesNotContain(staged.Metadata.Annotations ?? new Dictionary<string, string>(), pair => pair.Key.StartsWith("kwarm.io/", StringComparison.Ordinal));

        // The user's exact strategy, percentages and all.
        var agent = await client.AppsV1.ReadNamespacedDaemonSetAsync("agent", Namespace, cancellationToken: Token);
        Assert.Equal("RollingUpdate", agent.Spec.UpdateStrategy.Type);
        Assert.Equal(("10%", "0"), (agent.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.Value, agent.Spec.UpdateStrategy.RollingUpdate.MaxSurge.Value));
        AssertReleased(agent.Metadata, "dddd4444");

        // A record edited by hand into more than a strategy (and no policy annotation): the API default, the template intact.
        var edited = await client.AppsV1.ReadNamespacedDaemonSetAsync("edited", Namespace, cancellationToken: Token);
        Assert.Equal("RollingUpdate", edited.Spec.UpdateStrategy.Type);
        Assert.Equal(("1", "0"), (edited.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.Value, edited.Spec.UpdateStrategy.RollingUpdate.MaxSurge.Value));
        Assert.Equal("registry.local/infra/agent:2", edited.Spec.Template.Spec.Containers[0].Image);
        AssertReleased(edited.Metadata, "eeee5555");
        Assert.Contains($"warning: {Namespace}/edited has no usable kwarm.io/update-strategy", run.StandardError, StringComparison.Ordinal);
    }

    private static void AssertReleased(V1ObjectMeta metadata, string hold)
    {
        var kwarm = metadata.Annotations.Where(pair => pair.Key.StartsWith("kwarm.io/", StringComparison.Ordinal))
            .Select(pair => $"{pair.Key}={pair.Value}").Order(StringComparer.Ordinal);
        Assert.Equal([$"kwarm.io/released={hold}"], kwarm);
    }

    /// <summary>The hook's service account, ClusterRole and binding as the chart renders them; a kubeconfig with its token.</summary>
    private static async Task<string> InstallHookIdentityAsync(ControlPlane plane, Testing.Kubectl admin)
    {
        var hook = Manifests.RenderChart(releaseNamespace: HookNamespace)
            .Where(item => Manifests.Name(item) == "kwarm-release-holds" && Manifests.Kind(item) is "ServiceAccount" or "ClusterRole" or "ClusterRoleBinding")
            .ToList();
        Assert.Equal(3, hook.Count);
        var path = Path.Combine(plane.Directory, "release-holds-hook.json");
        await File.WriteAllTextAsync(path, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = new JsonArray([.. hook.Select(item => item.DeepClone())]) }.ToJsonString(), Token);
        await admin.SucceedAsync("create", "-f", path);
        var token = (await admin.SucceedAsync("-n", HookNamespace, "create", "token", "kwarm-release-holds")).Trim();
        return plane.TokenKubeconfig("release-holds-hook", token);
    }

    private static Task<ProcessRun> RunScriptAsync(ControlPlane plane, string kubeconfig)
    {
        var script = Path.Combine(Manifests.ChartDirectory, "files", "release-holds.sh");
        var home = Path.Combine(plane.Directory, "release-holds-home");
        Directory.CreateDirectory(home);
        return ProcessRun.StartAsync(
            "/usr/bin/env",
            [$"KUBECONFIG={kubeconfig}", $"HOME={home}", "TIMEOUT_SECONDS=0", "WEBHOOK_CONFIGURATION=kwarm", "sh", script],
            plane.Directory,
            Token);
    }

    /// <summary>Workloads as Kwarm's webhook leaves them during a hold (hold spec change and annotations), and one it never held.</summary>
    private const string Workloads = $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: {{{Namespace}}}
          annotations: {kwarm.io/hold: aaaa1111, kwarm.io/policy: basic}
        spec:
          paused: true
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: "registry.local/shop/web:2"}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: db
          namespace: {{{Namespace}}}
          annotations: {kwarm.io/hold: bbbb2222, kwarm.io/policy: basic, kwarm.io/partition: "1"}
        spec:
          serviceName: db
          replicas: 0
          updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: {{{Held}}}}}
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: db, image: "registry.local/shop/db:2"}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: cache
          namespace: {{{Namespace}}}
          annotations: {kwarm.io/hold: cccc3333, kwarm.io/policy: basic, kwarm.io/partition: none}
        spec:
          serviceName: cache
          replicas: 0
          updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: {{{Held}}}}}
          selector: {matchLabels: {app: cache}}
          template:
            metadata: {labels: {app: cache}}
            spec: {containers: [{name: cache, image: "registry.local/shop/cache:2"}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: staged
          namespace: {{{Namespace}}}
        spec:
          serviceName: staged
          replicas: 0
          updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 5}}
          selector: {matchLabels: {app: staged}}
          template:
            metadata: {labels: {app: staged}}
            spec: {containers: [{name: staged, image: "registry.local/shop/staged:2"}]}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
          namespace: {{{Namespace}}}
          annotations:
            kwarm.io/hold: dddd4444
            kwarm.io/policy: basic
            kwarm.io/update-strategy: '{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"10%","maxSurge":0}}'
        spec:
          updateStrategy: {type: OnDelete}
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {containers: [{name: agent, image: "registry.local/infra/agent:2"}]}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: edited
          namespace: {{{Namespace}}}
          annotations:
            kwarm.io/hold: eeee5555
            kwarm.io/update-strategy: '{"type":"RollingUpdate"},{"op":"remove","path":"/spec/template"}'
        spec:
          updateStrategy: {type: OnDelete}
          selector: {matchLabels: {app: edited}}
          template:
            metadata: {labels: {app: edited}}
            spec: {containers: [{name: agent, image: "registry.local/infra/agent:2"}]}
        """;
}
