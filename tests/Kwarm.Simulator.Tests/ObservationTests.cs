using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>What benchmarks read from the simulator besides the API: how long each webhook call took (pulls: PullLogTests).</summary>
public sealed class ObservationTests
{
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
        await cluster.CreateAsync("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", Configuration(webhook.CaBundle, timeoutSeconds: 3));

        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "registry.local/shop/api:1"));
        var answered = Assert.Single(cluster.Cluster.Webhooks.CallLog.Snapshot());
        Assert.Equal(("deployments.kwarm.io", "CREATE", "shop", "api", true), (answered.Webhook, answered.Operation, answered.Namespace, answered.Name, answered.Answered));
        // The first call pays for a cold TLS handshake: timeoutSeconds leaves room for a loaded machine.
        Assert.InRange(answered.Duration, TimeSpan.FromMilliseconds(45), TimeSpan.FromSeconds(3));

        // Slower than timeoutSeconds: failurePolicy Ignore admits the object, and the log says no answer came.
        webhook.Delay = TimeSpan.FromSeconds(10);
        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("slow", "shop", "registry.local/shop/api:1"));
        var unanswered = cluster.Cluster.Webhooks.CallLog.Snapshot()[^1];
        Assert.Equal("slow", unanswered.Name);
        Assert.False(unanswered.Answered);
        Assert.True(unanswered.Duration >= TimeSpan.FromSeconds(2.9) && unanswered.Duration < TimeSpan.FromSeconds(10), $"gave up after {unanswered.Duration}");
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
