using k8s;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Tests.EndToEnd;

/// <summary>Kwarm installed from deploy/ on the simulator: the API server calls its webhook the way a cluster does.</summary>
[Collection(Kwarm.Tests.EndToEnd.OneSimulatedClusterAtATime.Name)]
public sealed class WebhookEndToEndTests
{
    private const string Policy = EndToEndFiles.Policy;

    private static readonly string Deployment = EndToEndFiles.Deployment("registry.local/shop/web:1.1");

    [Fact]
    public async Task Kubectl_set_image_on_a_selected_Deployment_is_held_and_scale_is_not()
    {
        await using var installed = await KwarmTestCluster.StartAsync(new SimulatorOptions { Nodes = 3, TimeFactor = 0.01 });
        // The hold controller and the pull engine run too: a new image that takes a simulated minute to pull keeps
        // the hold in place while this test looks at it.
        installed.Cluster.Registry.SetSlow("registry.local/shop/web:1.2", 12_000);
        await installed.StartKwarmAsync();
        var kubectl = installed.Kubectl;
        await kubectl.SucceedAsync("create", "namespace", "shop");
        await ApplyAsync(kubectl, Policy);
        await ApplyAsync(kubectl, Deployment);
        await WaitForPolicyInWebhookAsync(kubectl, "web");

        await kubectl.SucceedAsync("-n", "shop", "set", "image", "deployment/web", "web=registry.local/shop/web:1.2");

        var held = await installed.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "shop", cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(held.Spec.Paused);
        Assert.Equal("web-tier", held.Metadata.Annotations[KwarmApi.PolicyAnnotation]);
        Assert.Equal(Kwarm.Workloads.HoldId.For(["registry.local/shop/web:1.2"]), held.Metadata.Annotations[KwarmApi.HoldAnnotation]);

        // A paused Deployment gets no new ReplicaSet (DESIGN §1): the old pods keep serving.
        var replicaSets = await installed.Client.AppsV1.ListNamespacedReplicaSetAsync("shop", cancellationToken: TestContext.Current.CancellationToken);
        Assert.DoesNotContain(replicaSets.Items, set => set.Spec.Template.Spec.Containers[0].Image.EndsWith(":1.2", StringComparison.Ordinal));

        await kubectl.SucceedAsync("-n", "shop", "scale", "deployment/web", "--replicas=3");
        var scaled = await installed.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "shop", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3, scaled.Spec.Replicas);
        Assert.Equal(held.Metadata.Annotations[KwarmApi.HoldAnnotation], scaled.Metadata.Annotations[KwarmApi.HoldAnnotation]);
    }

    [Fact]
    public async Task A_Deployment_no_policy_selects_rolls_out_unheld()
    {
        await using var installed = await KwarmTestCluster.StartAsync(new SimulatorOptions { Nodes = 2, TimeFactor = 0.01 });
        await installed.StartKwarmAsync();
        var kubectl = installed.Kubectl;
        await kubectl.SucceedAsync("create", "namespace", "shop");
        await ApplyAsync(kubectl, Policy);
        await ApplyAsync(kubectl, Deployment.Replace("metadata:\n  name: web", "metadata:\n  name: probe", StringComparison.Ordinal));
        await ApplyAsync(kubectl, Deployment.Replace("kwarm.io/enabled: \"true\"", "tier: web", StringComparison.Ordinal));
        await WaitForPolicyInWebhookAsync(kubectl, "probe");
        var callsBefore = installed.Cluster.Webhooks.Calls;

        await kubectl.SucceedAsync("-n", "shop", "set", "image", "deployment/web", "web=registry.local/shop/web:1.2");

        var deployment = await installed.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "shop", cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(true, deployment.Spec.Paused);
        Assert.False(deployment.Metadata.Annotations?.ContainsKey(KwarmApi.HoldAnnotation) ?? false);
        Assert.True(installed.Cluster.Webhooks.Calls > callsBefore, "the API server did not call the webhook for the image change");
    }

    internal static async Task ApplyAsync(Kubectl kubectl, string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"kwarm-e2e-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml, TestContext.Current.CancellationToken);
        try
        {
            await kubectl.SucceedAsync("apply", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The webhook decides from its informer cache, so a policy created a moment ago may not be there yet. A server-side
    /// dry run goes through the webhook without changing anything: once it comes back paused, the policy is loaded.
    /// </summary>
    internal static async Task WaitForPolicyInWebhookAsync(Kubectl kubectl, string selectedDeployment)
    {
        string? last = null;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            last = await kubectl.SucceedAsync(
                "-n", "shop", "set", "image", $"deployment/{selectedDeployment}", "web=registry.local/shop/web:probe",
                "--dry-run=server", "-o", "jsonpath={.spec.paused}");
            if (last == "true")
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"the webhook never held a dry run of deployment/{selectedDeployment} (last answer: '{last}')");
    }
}
