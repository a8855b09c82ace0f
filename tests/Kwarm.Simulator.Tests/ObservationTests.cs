using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>What benchmarks read from the simulator besides the API: when each pull finished, how long each webhook call took.</summary>
public sealed class ObservationTests
{
    [Fact]
    public async Task Completed_pulls_name_node_and_normalised_image_and_skip_starts_from_cache()
    {
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01 });
        cluster.Cluster.Registry.Add(new RegistryImage("registry.local/shop/web:1", 200_000_000));
        await cluster.CreateNamespaceAsync("shop");
        var before = DateTimeOffset.UtcNow;
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "registry.local/shop/web:1", replicas: 1));
        await TestCluster.WaitUntilAsync(() => cluster.Cluster.CompletedPulls.Count == 1, "the first pod's pull");

        var pull = Assert.Single(cluster.Cluster.CompletedPulls.Snapshot());
        Assert.Equal("node-0001", pull.Node);
        Assert.Equal("registry.local/shop/web:1", pull.Image);
        Assert.InRange(pull.StartedAt, before, pull.FinishedAt);

        // 200 MB at 100 MB/s is 2 s of simulated time, 20 ms at this time factor: the pull took at least that long.
        Assert.True(pull.FinishedAt - pull.StartedAt >= TimeSpan.FromMilliseconds(15), $"pull took {pull.FinishedAt - pull.StartedAt}");

        // A second pod of the same image on the same node starts from the cache: no new entry.
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web2", "shop", "registry.local/shop/web:1", replicas: 1));
        await TestCluster.WaitUntilAsync(
            () => cluster.List("", "pods", "shop").Count(p => p.Str("status", "phase") == "Running") == 2, "the second pod running");
        Assert.Single(cluster.Cluster.CompletedPulls.Snapshot());
    }

    [Fact]
    public async Task Webhook_calls_are_logged_with_their_latency_and_unanswered_calls_marked()
    {
        await using var webhook = await TestWebhook.StartAsync("kwarm-webhook.kwarm-system.svc");
        webhook.Delay = TimeSpan.FromMilliseconds(50);
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions
        {
            RunControllers = false,
            WebhookServices = new Dictionary<string, IPEndPoint> { ["kwarm-system/kwarm-webhook"] = webhook.Endpoint },
        });
        await cluster.CreateNamespaceAsync("shop");
        await cluster.CreateAsync("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", Configuration(webhook.CaBundle, timeoutSeconds: 1));

        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "registry.local/shop/api:1"));
        var answered = Assert.Single(cluster.Cluster.Webhooks.CallLog.Snapshot());
        Assert.Equal(("deployments.kwarm.io", "CREATE", "shop", "api", true), (answered.Webhook, answered.Operation, answered.Namespace, answered.Name, answered.Answered));
        Assert.InRange(answered.Duration, TimeSpan.FromMilliseconds(45), TimeSpan.FromSeconds(1));

        // Slower than timeoutSeconds: failurePolicy Ignore admits the object, and the log says no answer came.
        webhook.Delay = TimeSpan.FromSeconds(3);
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("slow", "shop", "registry.local/shop/api:1"));
        var unanswered = cluster.Cluster.Webhooks.CallLog.Snapshot()[^1];
        Assert.Equal("slow", unanswered.Name);
        Assert.False(unanswered.Answered);
        Assert.True(unanswered.Duration >= TimeSpan.FromSeconds(0.9), $"gave up after {unanswered.Duration}");
    }

    private static JsonObject Configuration(string caBundle, int timeoutSeconds) => new()
    {
        ["apiVersion"] = "admissionregistration.k8s.io/v1",
        ["kind"] = "MutatingWebhookConfiguration",
        ["metadata"] = new JsonObject { ["name"] = "kwarm" },
        ["webhooks"] = new JsonArray(new JsonObject
        {
            ["name"] = "deployments.kwarm.io",
            ["clientConfig"] = new JsonObject
            {
                ["service"] = new JsonObject { ["namespace"] = "kwarm-system", ["name"] = "kwarm-webhook", ["path"] = "/mutate/deployments", ["port"] = 443 },
                ["caBundle"] = caBundle,
            },
            ["rules"] = new JsonArray(new JsonObject
            {
                ["operations"] = new JsonArray("CREATE", "UPDATE"),
                ["apiGroups"] = new JsonArray("apps"),
                ["apiVersions"] = new JsonArray("v1"),
                ["resources"] = new JsonArray("deployments"),
                ["scope"] = "Namespaced",
            }),
            ["failurePolicy"] = "Ignore",
            ["sideEffects"] = "None",
            ["timeoutSeconds"] = timeoutSeconds,
            ["admissionReviewVersions"] = new JsonArray("v1"),
        }),
    };
}
