using k8s;
using System.Net;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Simulator.Tests;

/// <summary>The simulator calls mutating webhooks as kube-apiserver does (compared with tests/fixtures/admission).</summary>
public sealed class AdmissionTests : IAsyncLifetime
{
    private const string Service = "kwarm-system/kwarm-webhook";
    private TestWebhook _webhook = null!;
    private TestCluster _cluster = null!;

    public async ValueTask InitializeAsync()
    {
        _webhook = await TestWebhook.StartAsync("kwarm-webhook.kwarm-system.svc", "absent.kwarm-system.svc");
        _cluster = await TestCluster.StartAsync(new SimulatorOptions
        {
            RunControllers = false,
            WebhookServices = new Dictionary<string, IPEndPoint> { [Service] = _webhook.Endpoint },
        });
        await _cluster.CreateNamespaceAsync("shop");
        await _cluster.CreateNamespaceAsync("kwarm-system");
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _webhook.DisposeAsync();
    }

    private async Task RegisterAsync(string failurePolicy = "Ignore", int timeoutSeconds = 5, string? caBundle = null, string serviceName = "kwarm-webhook", JsonObject? objectSelector = null)
    {
        var webhook = new JsonObject
        {
            ["name"] = "deployments.kwarm.io",
            ["clientConfig"] = new JsonObject
            {
                ["service"] = new JsonObject { ["namespace"] = "kwarm-system", ["name"] = serviceName, ["path"] = "/mutate/deployments", ["port"] = 443 },
                ["caBundle"] = caBundle ?? _webhook.CaBundle,
            },
            ["rules"] = new JsonArray(new JsonObject
            {
                ["operations"] = new JsonArray("CREATE", "UPDATE"),
                ["apiGroups"] = new JsonArray("apps"),
                ["apiVersions"] = new JsonArray("v1"),
                ["resources"] = new JsonArray("deployments", "deployments/scale"),
                ["scope"] = "Namespaced",
            }),
            ["namespaceSelector"] = new JsonObject
            {
                ["matchExpressions"] = new JsonArray(new JsonObject
                {
                    ["key"] = "kubernetes.io/metadata.name",
                    ["operator"] = "NotIn",
                    ["values"] = new JsonArray("kube-system", "kwarm-system"),
                }),
            },
            ["failurePolicy"] = failurePolicy,
            ["sideEffects"] = "None",
            ["timeoutSeconds"] = timeoutSeconds,
            ["reinvocationPolicy"] = "IfNeeded",
            ["admissionReviewVersions"] = new JsonArray("v1"),
        };
        if (objectSelector is not null)
        {
            webhook["objectSelector"] = objectSelector;
        }

        await _cluster.CreateAsync("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", new JsonObject
        {
            ["apiVersion"] = "admissionregistration.k8s.io/v1",
            ["kind"] = "MutatingWebhookConfiguration",
            ["metadata"] = new JsonObject { ["name"] = "kwarm" },
            ["webhooks"] = new JsonArray(webhook),
        });
    }

    [Fact]
    public async Task Create_sends_a_review_shaped_like_the_recording_and_applies_the_patch()
    {
        await RegisterAsync();
        _webhook.Patch = JsonNode.Parse("""[{"op":"add","path":"/spec/paused","value":true},{"op":"add","path":"/metadata/annotations","value":{"kwarm.io/hold":"abc"}}]""")!.AsArray();
        var created = await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments?fieldManager=kubectl-client-side-apply&fieldValidation=Strict", TestCluster.Deployment("api", "shop", "registry.local/shop/api:1.0"));

        Assert.True(created["spec"]!["paused"]!.GetValue<bool>());
        Assert.Equal("abc", created["metadata"]!["annotations"]!["kwarm.io/hold"]!.GetValue<string>());
        var review = Assert.Single(_webhook.Reviews);
        var recorded = Fixtures.Json("admission/create-deployment-client-side-apply.json");
        AssertSameShape(recorded, review);
        var request = review["request"]!;
        Assert.Equal("CREATE", request["operation"]!.GetValue<string>());
        Assert.Null(request["oldObject"]);
        Assert.False(request["dryRun"]!.GetValue<bool>());
        FixtureFidelityTests.AssertJsonEqual(recorded["request"]!["options"], request["options"]);
        FixtureFidelityTests.AssertJsonEqual(recorded["request"]!["kind"], request["kind"]);
    }

    [Fact]
    public async Task Scale_subresource_sends_a_scale_review_like_the_recording()
    {
        await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "registry.local/shop/api:1.0", replicas: 3));
        await RegisterAsync();
        var (status, scale) = await _cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/api/scale", JsonNode.Parse("""{"spec":{"replicas":5}}"""), "application/merge-patch+json");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5, scale!["spec"]!["replicas"]!.GetValue<long>());
        var review = Assert.Single(_webhook.Reviews);
        var recorded = Fixtures.Json("admission/update-deployment-scale-subresource.json");
        AssertSameShape(recorded, review);
        foreach (var field in new[] { "kind", "resource", "subResource", "requestKind", "requestResource", "requestSubResource", "operation", "options" })
        {
            FixtureFidelityTests.AssertJsonEqual(recorded["request"]![field], review["request"]![field]);
        }

        Assert.Equal(3, review["request"]!["oldObject"]!["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal("app=api", review["request"]!["object"]!["status"]!["selector"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dry_run_reaches_the_webhook_and_persists_nothing()
    {
        await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "registry.local/shop/api:1.0"));
        await RegisterAsync();
        _webhook.Patch = JsonNode.Parse("""[{"op":"add","path":"/spec/paused","value":true}]""")!.AsArray();
        var patch = JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"api","image":"registry.local/shop/api:1.1"}]}}}}""");
        var (status, preview) = await _cluster.SendAsync(HttpMethod.Patch, "/apis/apps/v1/namespaces/shop/deployments/api?dryRun=All&fieldManager=kubectl-set", patch, "application/strategic-merge-patch+json");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(preview!["spec"]!["paused"]!.GetValue<bool>());
        var review = Assert.Single(_webhook.Reviews);
        var recorded = Fixtures.Json("admission/update-deployment-set-image-dry-run.json");
        AssertSameShape(recorded, review);
        FixtureFidelityTests.AssertJsonEqual(recorded["request"]!["options"], review["request"]!["options"]);
        Assert.True(review["request"]!["dryRun"]!.GetValue<bool>());
        Assert.Equal("registry.local/shop/api:1.0", review["request"]!["oldObject"]!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());

        var (_, stored) = await _cluster.SendAsync(HttpMethod.Get, "/apis/apps/v1/namespaces/shop/deployments/api");
        Assert.Null(stored!["spec"]!["paused"]);
        Assert.Equal("registry.local/shop/api:1.0", stored["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
    }

    [Fact]
    public async Task Namespace_and_object_selectors_decide_whether_the_webhook_is_called()
    {
        await RegisterAsync(objectSelector: JsonNode.Parse("""{"matchLabels":{"app":"api"}}""")!.AsObject());
        await _cluster.CreateAsync("/apis/apps/v1/namespaces/kwarm-system/deployments", TestCluster.Deployment("api", "kwarm-system", "x:1"));
        await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("other", "shop", "x:1"));
        Assert.Empty(_webhook.Reviews);

        await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "x:1"));
        Assert.Single(_webhook.Reviews);
    }

    [Fact]
    public async Task Failure_policy_decides_when_the_webhook_cannot_be_reached()
    {
        await RegisterAsync(failurePolicy: "Fail", serviceName: "absent");
        var (status, body) = await _cluster.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "x:1"));
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("failed calling webhook \"deployments.kwarm.io\"", body!["message"]!.GetValue<string>());

        await _cluster.SendAsync(HttpMethod.Delete, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/kwarm");
        await RegisterAsync(failurePolicy: "Ignore", serviceName: "absent");
        await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "x:1"));
        Assert.Empty(_webhook.Reviews);

        // A service mapped while the cluster runs is reachable from then on.
        _cluster.Cluster.MapWebhookService("kwarm-system/absent", _webhook.Endpoint);
        await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("late", "shop", "x:1"));
        Assert.Single(_webhook.Reviews);
        Assert.Throws<ArgumentException>(() => _cluster.Cluster.MapWebhookService("x/y", new IPEndPoint(IPAddress.Parse("192.0.2.10"), 443)));
    }

    /// <summary>The API server hands a webhook's <c>response.warnings</c> to the client as Warning headers, which kubectl prints.</summary>
    [Fact]
    public async Task Webhook_warnings_reach_the_client_as_warning_headers()
    {
        await RegisterAsync();
        _webhook.Warnings = ["kwarm: rollout held until the new images are on the nodes (hold abc, policy \"web\")"];

        using var request = new HttpRequestMessage(HttpMethod.Post, "/apis/apps/v1/namespaces/shop/deployments")
        {
            Content = new StringContent(TestCluster.Deployment("api", "shop", "x:1").ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await _cluster.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(
            ["299 - \"kwarm: rollout held until the new images are on the nodes (hold abc, policy \\\"web\\\")\""],
            response.Headers.GetValues("Warning"));

        var kubectl = new Kubectl(_cluster.Cluster.KubeconfigPath);
        var labelled = await kubectl.RunAsync("label", "deployment", "api", "-n", "shop", "tier=web");
        Assert.True(labelled.ExitCode == 0, labelled.ToString());
        Assert.Contains("Warning: kwarm: rollout held until the new images are on the nodes (hold abc, policy \"web\")", labelled.Error, StringComparison.Ordinal);
    }

    /// <summary>A webhook whose Service nothing serves is not silent: the simulator logs it with the flag that routes it.</summary>
    [Fact]
    public async Task An_unrouted_webhook_service_is_logged_with_the_way_to_route_it()
    {
        var log = new RecordingLoggerFactory();
        await using var cluster = await TestCluster.StartAsync(new SimulatorOptions { RunControllers = false, LoggerFactory = log });
        await cluster.CreateNamespaceAsync("shop");
        var configuration = JsonNode.Parse($$"""
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": {"name": "unrouted"},
             "webhooks": [{"name": "hold.deployments.kwarm.io", "sideEffects": "None", "failurePolicy": "Ignore", "admissionReviewVersions": ["v1"],
               "clientConfig": {"service": {"namespace": "kwarm-system", "name": "kwarm-webhook", "path": "/mutate/deployments"}, "caBundle": "{{_webhook.CaBundle}}"},
               "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"]}]}]}
            """)!.AsObject();
        await cluster.CreateAsync("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", configuration);

        await cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "x:1"));

        var warning = Assert.Single(log.Messages);
        Assert.Equal(
            "Webhook hold.deployments.kwarm.io calls Service kwarm-system/kwarm-webhook, which no local endpoint serves " +
            "(map it: --webhook-service-endpoint kwarm-system/kwarm-webhook=127.0.0.1:PORT); the request went through unchanged (failurePolicy Ignore)",
            warning);
    }

    [Fact]
    public async Task Untrusted_certificate_and_timeout_are_webhook_failures()
    {
        var otherCa = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(_cluster.Cluster.CertificateAuthorityPem));
        await RegisterAsync(failurePolicy: "Fail", caBundle: otherCa);
        var (untrusted, refusal) = await _cluster.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("a", "shop", "x:1"));
        Assert.Equal(HttpStatusCode.InternalServerError, untrusted);
        Assert.Contains("failed calling webhook \"deployments.kwarm.io\"", refusal!["message"]!.GetValue<string>());
        Assert.Empty(_webhook.Reviews);

        await _cluster.SendAsync(HttpMethod.Delete, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/kwarm");
        await RegisterAsync(failurePolicy: "Fail", timeoutSeconds: 1);
        _webhook.Delay = TimeSpan.FromSeconds(30);
        var started = DateTime.UtcNow;
        var (timedOut, body) = await _cluster.SendAsync(HttpMethod.Post, "/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("b", "shop", "x:1"));
        Assert.Equal(HttpStatusCode.InternalServerError, timedOut);
        Assert.Contains("context deadline exceeded", body!["message"]!.GetValue<string>());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "the webhook call must be cut at timeoutSeconds, not wait for the answer");
    }

    [Fact]
    public async Task IfNeeded_webhooks_are_called_again_when_a_later_webhook_changed_the_object()
    {
        await RegisterAsync();
        var (_, configuration) = await _cluster.SendAsync(HttpMethod.Get, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/kwarm");
        var second = configuration!["webhooks"]![0]!.DeepClone().AsObject();
        second["name"] = "second.kwarm.io";
        second["reinvocationPolicy"] = "Never";
        configuration["webhooks"]!.AsArray().Add(second);
        var (replaced, _) = await _cluster.SendAsync(HttpMethod.Put, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/kwarm", configuration);
        Assert.Equal(HttpStatusCode.OK, replaced);

        var calls = 0;
        _webhook.Responder = _ =>
        {
            var call = Interlocked.Increment(ref calls);
            return new JsonArray(new JsonObject { ["op"] = "add", ["path"] = $"/metadata/labels/call-{call}", ["value"] = "yes" });
        };
        var created = await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("api", "shop", "x:1"));

        Assert.Equal(3, calls);
        Assert.Equal(["app", "call-1", "call-2", "call-3"], created["metadata"]!["labels"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Webhook_configurations_are_validated_and_defaulted_like_the_api_server_does()
    {
        var (status, body) = await _cluster.SendAsync(HttpMethod.Post, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", JsonNode.Parse("""
            {"metadata":{"name":"bad"},"webhooks":[{"name":"short","clientConfig":{},"timeoutSeconds":60}]}
            """));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var message = body!["message"]!.GetValue<string>();
        Assert.StartsWith("MutatingWebhookConfiguration.admissionregistration.k8s.io \"bad\" is invalid: [", message, StringComparison.Ordinal);
        Assert.Contains("webhooks[0].name: Invalid value: \"short\"", message);
        Assert.Contains("webhooks[0].clientConfig: Required value: exactly one of url or service is required", message);
        Assert.Contains("webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun", message);
        Assert.Contains("webhooks[0].admissionReviewVersions: Required value", message);
        Assert.Contains("webhooks[0].timeoutSeconds: Invalid value: 60", message);

        var created = await _cluster.CreateAsync("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", JsonNode.Parse("""
            {"metadata":{"name":"minimal"},"webhooks":[{"name":"a.kwarm.io","sideEffects":"None","admissionReviewVersions":["v1"],
              "clientConfig":{"service":{"namespace":"kwarm-system","name":"kwarm-webhook"}},
              "rules":[{"operations":["CREATE"],"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments"]}]}]}
            """)!.AsObject());
        var webhook = created["webhooks"]![0]!;
        Assert.Equal("Fail", webhook["failurePolicy"]!.GetValue<string>());
        Assert.Equal(10, webhook["timeoutSeconds"]!.GetValue<long>());
        Assert.Equal("Never", webhook["reinvocationPolicy"]!.GetValue<string>());
        Assert.Equal(443, webhook["clientConfig"]!["service"]!["port"]!.GetValue<long>());
        Assert.Equal("*", webhook["rules"]![0]!["scope"]!.GetValue<string>());
    }

    [Fact]
    public async Task Webhooks_see_who_makes_the_request()
    {
        await RegisterAsync();
        var operatorConfig = await _cluster.Cluster.CreateKubeconfigAsync(Admission.UserInfo.ServiceAccount("kwarm-system", "kwarm"), cancellationToken: TestContext.Current.CancellationToken);
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(operatorConfig));
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(TestCluster.Deployment("api", "shop", "x:1"), "apps", "v1", "shop", "deployments", cancellationToken: TestContext.Current.CancellationToken);
        await _cluster.CreateAsync("/apis/apps/v1/namespaces/shop/deployments", TestCluster.Deployment("web", "shop", "x:1"));

        var users = _webhook.Reviews.Select(r => r["request"]!["userInfo"]!).ToList();
        Assert.Equal("system:serviceaccount:kwarm-system:kwarm", users[0]["username"]!.GetValue<string>());
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:kwarm-system", "system:authenticated"], users[0]["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
        FixtureFidelityTests.AssertJsonEqual(Fixtures.Json("admission/update-deployment-set-image.json")["request"]!["userInfo"], users[1]);
    }

    /// <summary>Same keys at the top, in the request, and in the options as the recorded review.</summary>
    private static void AssertSameShape(JsonObject recorded, JsonObject actual)
    {
        Assert.Equal(Keys(recorded), Keys(actual));
        Assert.Equal(Keys(recorded["request"]!.AsObject()), Keys(actual["request"]!.AsObject()));
        Assert.Equal(Keys(recorded["request"]!["userInfo"]!.AsObject()), Keys(actual["request"]!["userInfo"]!.AsObject()));
    }

    private static List<string> Keys(JsonObject obj) => [.. obj.Select(p => p.Key).Order(StringComparer.Ordinal)];
}
