using System.Text.Json.Nodes;
using Kwarm.Simulator.Nodes;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// The commands Kwarm's users run, with the real kubectl, as one definition run against two clusters: the simulator
/// (<see cref="KubectlTests"/>) and a real v1.24 control plane with simulated nodes attached
/// (<see cref="KubectlRealApiServerTests"/>). Both must pass: where they disagree the simulator is wrong. A cluster
/// may be shared with other tests, so every name a test gives a namespace or a cluster-scoped object comes from
/// <see cref="Unique"/>, and the backend removes what the scenarios create (<see cref="Created"/>).
/// </summary>
public abstract class KubectlScenarios : IAsyncLifetime
{
    protected string DeploymentYaml => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: {{{Shop}}}
          labels: {app: web, kwarm.io/enabled: "true"}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: registry.local/shop/web:1.1
                env: [{name: MODE, value: blue}]
        """;

    // A minimal stand-in for Kwarm's CRDs (the real ones live in deploy/crds on another branch): same group, names,
    // scopes, status subresource, printer columns, and a schema with defaults and a minimum.
    private const string CrdYaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: prepullimages.kwarm.io}
        spec:
          group: kwarm.io
          scope: Namespaced
          names: {plural: prepullimages, singular: prepullimage, kind: PrePullImage, listKind: PrePullImageList, shortNames: [ppi]}
          versions:
          - name: v1alpha1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {name: Image, type: string, jsonPath: .spec.image}
            - {name: Phase, type: string, jsonPath: .status.phase}
            - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    required: [image]
                    properties:
                      image: {type: string}
                      timeout: {type: string, default: 10m, pattern: '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'}
                      retry:
                        type: object
                        default: {}
                        properties:
                          maxAttempts: {type: integer, minimum: 1, default: 3}
                  status:
                    type: object
                    properties:
                      phase: {type: string, enum: [Pending, InProgress, Completed, Failed]}
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: prepullpolicies.kwarm.io}
        spec:
          group: kwarm.io
          scope: Cluster
          names: {plural: prepullpolicies, singular: prepullpolicy, kind: PrePullPolicy, listKind: PrePullPolicyList, shortNames: [ppp]}
          versions:
          - name: v1alpha1
            served: true
            storage: true
            subresources: {status: {}}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      hold:
                        type: object
                        properties:
                          enabled: {type: boolean, default: true}
                          maxDuration: {type: string, default: 15m}
                  status: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """;

    private Kubectl _kubectl = null!;

    /// <summary>The test's own folder: its kubeconfig, kubectl's cache and the manifests it writes.</summary>
    protected string Folder { get; private set; } = "";

    protected string Kubeconfig { get; private set; } = "";

    /// <summary>The namespace the Deployment scenarios run in.</summary>
    protected string Shop => Unique("shop");

    /// <summary>The namespace (and the cluster role and binding) of the install scenario.</summary>
    protected string Operator => Unique("operator");

    /// <summary>The namespace the imperative create commands make.</summary>
    protected string Team => Unique("team");

    /// <summary>
    /// The namespaces and cluster-scoped objects (<c>kind/name</c>) the scenarios may create, for a shared cluster to
    /// delete after each test whether it passed or not. The CRDs' names are fixed by their group: the scenarios on
    /// one cluster run one at a time, so they never meet.
    /// </summary>
    protected IReadOnlyList<string> Created =>
    [
        "namespace/" + Shop, "namespace/" + Operator, "namespace/" + Team,
        "clusterrole.rbac.authorization.k8s.io/" + Operator, "clusterrolebinding.rbac.authorization.k8s.io/" + Operator,
        "customresourcedefinition.apiextensions.k8s.io/prepullimages.kwarm.io", "customresourcedefinition.apiextensions.k8s.io/prepullpolicies.kwarm.io",
    ];

    /// <summary>The name a test gives a namespace or cluster-scoped object <paramref name="name"/> on this cluster.</summary>
    protected abstract string Unique(string name);

    /// <summary>Starts (or joins) the cluster with nodes to run pods; returns the kubeconfig kubectl uses.</summary>
    protected abstract Task<string> StartClusterAsync(string folder);

    protected abstract ValueTask StopClusterAsync();

    /// <summary>The images the cluster's (simulated) nodes pull from.</summary>
    protected abstract ImageRegistry Registry { get; }

    /// <summary>The addresses the cluster gives a ClusterIP Service (its service CIDR, a setting of the cluster).</summary>
    protected abstract string ClusterIpPattern { get; }

    /// <summary>
    /// How kubectl refuses a custom resource with a field its schema does not have. From v1.25 the API server checks
    /// (server-side field validation, kubectl sends <c>fieldValidation=Strict</c>); a v1.24 server does not offer it,
    /// so kubectl validates against the server's OpenAPI document itself, with a message of its own.
    /// </summary>
    protected abstract string UnknownFieldRefusal { get; }

    /// <summary>What went wrong in the background (the simulator's controllers, the simulated kubelets).</summary>
    protected abstract IReadOnlyCollection<string> BackgroundErrors { get; }

    public async ValueTask InitializeAsync()
    {
        Assert.True(Kubectl.Path is not null, "kubectl must be on PATH (README, Set up)");
        Folder = Directory.CreateTempSubdirectory("kwarm-kubectl-").FullName;
        Kubeconfig = await StartClusterAsync(Folder);
        _kubectl = new Kubectl(Kubeconfig);
        await Ok("create", "namespace", Shop);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopClusterAsync();
        }
        finally
        {
            Directory.Delete(Folder, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    protected Task<Kubectl.Result> Run(params string[] args) => _kubectl.RunAsync(args);

    protected async Task<string> Ok(params string[] args)
    {
        var result = await _kubectl.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed: {result}");
        return result.Out;
    }

    private async Task<JsonObject> Deployment() =>
        JsonNode.Parse(await Ok("get", "deployment", "web", "-n", Shop, "-o", "json"))!.AsObject();

    protected string Write(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Deployment_lifecycle_with_kubectl()
    {
        var manifest = Write("deployment.yaml", DeploymentYaml);
        Assert.Contains("deployment.apps/web created", await Ok("apply", "-f", manifest));
        Assert.Contains("deployment.apps/web unchanged", await Ok("apply", "-f", manifest));
        Assert.Contains("successfully rolled out", await Ok("rollout", "status", "deployment/web", "-n", Shop, "--timeout=60s"));

        var described = await Ok("describe", "deployment", "web", "-n", Shop);
        Assert.Matches(@"Normal\s+ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set web-", described);
        Assert.Matches(@"NewReplicaSet:\s+web-\w+ \(2/2 replicas created\)", described);

        var table = await Ok("get", "deployments", "-n", Shop);
        Assert.Matches(@"web\s+2/2\s+2\s+2\s+", table);

        await Ok("label", "deployment", "web", "-n", Shop, "tier=frontend");
        Assert.Equal(1, (await Deployment())["metadata"]!["generation"]!.GetValue<long>());
        await Ok("annotate", "deployment", "web", "-n", Shop, "owner=team-a");
        var labelled = await Deployment();
        Assert.Equal("frontend", labelled["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Equal("team-a", labelled["metadata"]!["annotations"]!["owner"]!.GetValue<string>());
        // A label leaves the generation, an annotation moves it: the deployment controller copies annotations to the ReplicaSets.
        Assert.Equal(2, labelled["metadata"]!["generation"]!.GetValue<long>());

        Assert.Contains("scaled", await Ok("scale", "deployment", "web", "-n", Shop, "--replicas=3"));
        Assert.Equal(3, (await Deployment())["spec"]!["replicas"]!.GetValue<long>());

        await Ok("set", "image", "deployment/web", "-n", Shop, "web=registry.local/shop/web:1.2");
        Assert.Contains("successfully rolled out", await Ok("rollout", "status", "deployment/web", "-n", Shop, "--timeout=60s"));
        var rolled = await Deployment();
        Assert.Equal("registry.local/shop/web:1.2", rolled["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
        Assert.Equal(3, rolled["status"]!["updatedReplicas"]!.GetValue<long>());
        Assert.Equal(rolled["metadata"]!["generation"]!.GetValue<long>(), rolled["status"]!["observedGeneration"]!.GetValue<long>());
        Assert.Equal("2", rolled["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>());

        await Ok("rollout", "pause", "deployment/web", "-n", Shop);
        await Ok("set", "image", "deployment/web", "-n", Shop, "web=registry.local/shop/web:1.3");
        // Once the controller has seen the paused change, one look (no watch, so no real-time limit to race) says it waits.
        await Eventually(async () => await Deployment() is var paused
            && paused["metadata"]!["generation"]!.GetValue<long>() == paused["status"]?["observedGeneration"]?.GetValue<long>());
        var held = await Ok("rollout", "status", "deployment/web", "-n", Shop, "--watch=false");
        Assert.Contains("Waiting for deployment \"web\" rollout to finish: 0 out of 3 new replicas have been updated...", held);
        Assert.Equal(2, JsonNode.Parse(await Ok("get", "replicasets", "-n", Shop, "-o", "json"))!["items"]!.AsArray().Count);

        await Ok("rollout", "resume", "deployment/web", "-n", Shop);
        Assert.Contains("successfully rolled out", await Ok("rollout", "status", "deployment/web", "-n", Shop, "--timeout=60s"));

        await Ok("patch", "deployment", "web", "-n", Shop, "--type", "merge", "-p", """{"spec":{"paused":true}}""");
        Assert.True((await Deployment())["spec"]!["paused"]!.GetValue<bool>());
        await Ok("patch", "deployment", "web", "-n", Shop, "--type", "json", "-p", """[{"op":"test","path":"/spec/paused","value":true},{"op":"replace","path":"/spec/paused","value":false}]""");
        // Resumed: a false paused is not stored (Go's omitempty), so the next test of /spec/paused finds nothing.
        Assert.Null((await Deployment())["spec"]!["paused"]);
        var rejected = await _kubectl.RunAsync("patch", "deployment", "web", "-n", Shop, "--type", "json", "-p", """[{"op":"test","path":"/spec/paused","value":true}]""");
        Assert.NotEqual(0, rejected.ExitCode);
        Assert.Contains("the server rejected our request due to an error in our request", rejected.Error);

        await Ok("patch", "deployment", "web", "-n", Shop, "--type", "strategic", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"EXTRA","value":"1"}]},{"name":"proxy","image":"registry.local/proxy:2"}]}}}}""");
        var patched = await Deployment();
        var containers = patched["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["web", "proxy"], containers.Select(c => c!["name"]!.GetValue<string>()));
        // An entry the patch adds goes before the stored ones it does not name (the API server's merge order).
        Assert.Equal(["EXTRA", "MODE"], containers[0]!["env"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()));
        Assert.Equal("registry.local/shop/web:1.3", containers[0]!["image"]!.GetValue<string>());

        Assert.Contains("deployment.apps \"web\" deleted", await Ok("delete", "deployment", "web", "-n", Shop));
        var missing = await _kubectl.RunAsync("get", "deployment", "web", "-n", Shop);
        Assert.Contains("deployments.apps \"web\" not found", missing.Error);
        await Eventually(async () => (await Ok("get", "replicasets,pods", "-n", Shop, "-o", "name")).Trim().Length == 0);
        Assert.Empty(BackgroundErrors);
    }

    /// <summary>
    /// kubectl asks for server-side Tables on a watch too: the events must be Tables of the same columns as the list, or
    /// <c>-o wide -w</c> loses its wide columns (and a plain <c>-w</c> its READY and UP-TO-DATE) after the first row.
    /// </summary>
    [Fact]
    public async Task Wide_watch_keeps_every_column_and_a_paused_rollout_shows_zero_up_to_date()
    {
        await Ok("apply", "-f", Write("deployment.yaml", DeploymentYaml));
        await Ok("rollout", "status", "deployment/web", "-n", Shop, "--timeout=60s");
        Assert.Matches(@"(?m)^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$", await Ok("get", "deployment", "web", "-n", Shop, "-o", "wide"));

        await using var watch = KubectlStream.Start(Kubeconfig, "get", "deployment", "web", "-n", Shop, "-o", "wide", "-w");
        await watch.WaitForLineAsync(line => line.StartsWith("web ", StringComparison.Ordinal), "first row");
        await Ok("rollout", "pause", "deployment/web", "-n", Shop);
        await Ok("set", "image", "deployment/web", "-n", Shop, "web=registry.local/shop/web:1.2");

        // A paused Deployment with a new template has no updated replica: the API server prints 0, not an empty cell.
        await watch.WaitForLineAsync(
            line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^web\s+2/2\s+0\s+2\s+\S+\s+web\s+registry\.local/shop/web:1\.2\s+app=web$"),
            "watch row of the held rollout with UP-TO-DATE 0 and the wide columns");
        Assert.Matches(@"(?m)^web\s+2/2\s+0\s+2\s+", await Ok("get", "deployment", "web", "-n", Shop));
    }

    /// <summary>
    /// An install applies RBAC, Services and a PodDisruptionBudget beside the workloads: they are stored and listed. A kind
    /// no CRD defines is refused as a cluster refuses it, not with kubectl's "proto: cannot parse" (its validation falls
    /// back to the protobuf OpenAPI v2 document for kinds the v3 index does not list).
    /// </summary>
    [Fact]
    public async Task Server_side_apply_stores_rbac_services_and_budgets_and_refuses_unknown_kinds_like_a_cluster()
    {
        var manifest = Write("install.yaml", $$$"""
            apiVersion: v1
            kind: Namespace
            metadata: {name: "{{{Operator}}}"}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: "{{{Operator}}}"}
            rules: [{apiGroups: [apps], resources: [deployments], verbs: [get, list, watch, patch]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: "{{{Operator}}}"}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "{{{Operator}}}"}
            subjects: [{kind: ServiceAccount, name: operator, namespace: "{{{Operator}}}"}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: leader, namespace: "{{{Operator}}}"}
            rules: [{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, update]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: leader, namespace: "{{{Operator}}}"}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leader}
            subjects: [{kind: ServiceAccount, name: operator, namespace: "{{{Operator}}}"}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: webhook, namespace: "{{{Operator}}}"}
            spec:
              selector: {app: operator}
              ports: [{name: https, port: 443, targetPort: 9443}]
            ---
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: operator, namespace: "{{{Operator}}}"}
            spec:
              minAvailable: 1
              selector: {matchLabels: {app: operator}}
            ---
            apiVersion: example.io/v1
            kind: Widget
            metadata: {name: unknown, namespace: "{{{Operator}}}"}
            """);

        var applied = await _kubectl.RunAsync("apply", "--server-side", "-f", manifest);

        Assert.Equal(1, applied.ExitCode);
        Assert.DoesNotContain("proto:", applied.Error, StringComparison.Ordinal);
        Assert.Contains("no matches for kind \"Widget\" in version \"example.io/v1\"", applied.Error, StringComparison.Ordinal);
        foreach (var applies in new[] { "clusterrole.rbac.authorization.k8s.io/" + Operator, "clusterrolebinding.rbac.authorization.k8s.io/" + Operator,
            "role.rbac.authorization.k8s.io/leader", "rolebinding.rbac.authorization.k8s.io/leader", "service/webhook", "poddisruptionbudget.policy/operator" })
        {
            Assert.Contains(applies + " serverside-applied", applied.Out, StringComparison.Ordinal);
        }

        Assert.Matches(@"webhook\s+ClusterIP\s+" + ClusterIpPattern + @"\s+<none>\s+443/TCP\s+", await Ok("get", "service", "webhook", "-n", Operator));
        var service = JsonNode.Parse(await Ok("get", "service", "webhook", "-n", Operator, "-o", "json"))!;
        Assert.Equal(9443, service["spec"]!["ports"]![0]!["targetPort"]!.GetValue<int>());
        Assert.Matches(@"operator\s+1\s+N/A\s+0\s+", await Ok("get", "pdb", "operator", "-n", Operator));
        Assert.Matches(@"leader\s+Role/leader\s+\S+\s+" + Operator + "/operator", await Ok("get", "rolebinding", "leader", "-n", Operator, "-o", "wide"));
        Assert.Contains(Operator, await Ok("get", "clusterrole", Operator, "-o", "name"));
        Assert.Contains("clusterrolebinding.rbac.authorization.k8s.io/" + Operator, await Ok("get", "clusterrolebindings", "-o", "name"));
    }

    [Fact]
    public async Task Watch_with_a_timeout_sees_changes()
    {
        Assert.Contains("created", await Ok("create", "-f", Write("d.yaml", DeploymentYaml)));
        // Label it every second while kubectl watches, so changes land after the watch started however slow kubectl is to start.
        var watched = await _kubectl.RunWhileAsync(
            TimeSpan.FromSeconds(2),
            async () =>
            {
                for (var i = 1; i <= 3; i++)
                {
                    await Task.Delay(1000, TestContext.Current.CancellationToken);
                    await Ok("label", "deployment", "web", "-n", Shop, "--overwrite", $"watched=yes-{i}");
                }
            },
            "get", "deployment", "web", "-n", Shop, "-w", "--output-watch-events", "-o", "custom-columns=EVENT:.type,NAME:.object.metadata.name,WATCHED:.object.metadata.labels.watched");
        Assert.Matches(@"ADDED\s+web", watched.Out);
        Assert.Matches(@"MODIFIED\s+web\s+yes-[123]", watched.Out);
    }

    [Fact]
    public async Task Custom_resources_apply_after_their_crds()
    {
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/prepullimages.kwarm.io created", await Ok("apply", "-f", Write("crds.yaml", CrdYaml)));
        var image = Write("ppi.yaml", $$$"""
            apiVersion: kwarm.io/v1alpha1
            kind: PrePullImage
            metadata: {name: web-1-2, namespace: "{{{Shop}}}"}
            spec: {image: registry.local/shop/web:1.2}
            """);
        Assert.Contains("prepullimage.kwarm.io/web-1-2 created", await Ok("apply", "-f", image));
        var stored = JsonNode.Parse(await Ok("get", "ppi", "web-1-2", "-n", Shop, "-o", "json"))!;
        Assert.Equal("10m", stored["spec"]!["timeout"]!.GetValue<string>());
        Assert.Equal(3, stored["spec"]!["retry"]!["maxAttempts"]!.GetValue<long>());

        File.WriteAllText(image, $$$"""
            apiVersion: kwarm.io/v1alpha1
            kind: PrePullImage
            metadata: {name: web-1-2, namespace: "{{{Shop}}}"}
            spec: {image: registry.local/shop/web:1.3, timeout: 90s}
            """);
        Assert.Contains("prepullimage.kwarm.io/web-1-2 configured", await Ok("apply", "-f", image));
        Assert.Equal(2, JsonNode.Parse(await Ok("get", "prepullimage", "web-1-2", "-n", Shop, "-o", "json"))!["metadata"]!["generation"]!.GetValue<long>());
        Assert.Matches(@"web-1-2\s+registry.local/shop/web:1.3", await Ok("get", "ppi", "-n", Shop));

        var bad = Write("bad.yaml", $$$"""
            apiVersion: kwarm.io/v1alpha1
            kind: PrePullImage
            metadata: {name: bad, namespace: "{{{Shop}}}"}
            spec: {image: x, retry: {maxAttempts: 0}, timeout: soon}
            """);
        var refused = await _kubectl.RunAsync("apply", "-f", bad);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("spec.retry.maxAttempts in body should be greater than or equal to 1", refused.Error);
        Assert.Contains("spec.timeout in body should match", refused.Error);

        var unknownField = Write("unknown.yaml", $$$"""
            apiVersion: kwarm.io/v1alpha1
            kind: PrePullImage
            metadata: {name: typo, namespace: "{{{Shop}}}"}
            spec: {image: x, imagePullSecret: [a]}
            """);
        var strict = await _kubectl.RunAsync("apply", "-f", unknownField);
        Assert.NotEqual(0, strict.ExitCode);
        Assert.Contains(UnknownFieldRefusal, strict.Error, StringComparison.Ordinal);
        await Ok("apply", "--validate=false", "-f", unknownField);
        Assert.Null(JsonNode.Parse(await Ok("get", "ppi", "typo", "-n", Shop, "-o", "json"))!["spec"]!["imagePullSecret"]);

        var policy = Write("ppp.yaml", """
            apiVersion: kwarm.io/v1alpha1
            kind: PrePullPolicy
            metadata: {name: default}
            spec: {hold: {maxDuration: 5m}}
            """);
        Assert.Contains("prepullpolicy.kwarm.io/default created", await Ok("apply", "-f", policy));
        var ppp = JsonNode.Parse(await Ok("get", "ppp", "default", "-o", "json"))!;
        Assert.True(ppp["spec"]!["hold"]!["enabled"]!.GetValue<bool>());
        await Ok("patch", "ppp", "default", "--type", "merge", "--subresource", "status", "-p", """{"status":{"activeHolds":1}}""");
        Assert.Equal(1, JsonNode.Parse(await Ok("get", "ppp", "default", "-o", "json"))!["status"]!["activeHolds"]!.GetValue<long>());
        Assert.Contains("deleted", await Ok("delete", "ppp", "default"));
    }

    [Fact]
    public async Task Imperative_create_commands_that_send_protobuf_work()
    {
        Assert.Contains($"namespace/{Team} created", await Ok("create", "namespace", Team));
        await Ok("create", "secret", "docker-registry", "regcred", "-n", Team, "--docker-server=registry.local", "--docker-username=u", "--docker-password=p");
        await Ok("create", "serviceaccount", "puller", "-n", Team);
        await Ok("create", "configmap", "settings", "-n", Team, "--from-literal=mode=blue");

        var secret = JsonNode.Parse(await Ok("get", "secret", "regcred", "-n", Team, "-o", "json"))!;
        Assert.Equal("kubernetes.io/dockerconfigjson", secret["type"]!.GetValue<string>());
        var config = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]![".dockerconfigjson"]!.GetValue<string>()));
        Assert.Contains("\"registry.local\"", config);
        Assert.Equal("blue", JsonNode.Parse(await Ok("get", "configmap", "settings", "-n", Team, "-o", "json"))!["data"]!["mode"]!.GetValue<string>());
        var ns = JsonNode.Parse(await Ok("get", "namespace", Team, "-o", "json"))!;
        Assert.Equal(Team, ns["metadata"]!["labels"]!["kubernetes.io/metadata.name"]!.GetValue<string>());
        Assert.Null(ns["metadata"]!["generateName"]);
    }

    [Fact]
    public async Task Drain_evicts_pods_to_other_nodes_and_uncordon_reopens_the_node()
    {
        await Ok("apply", "-f", Write("deployment.yaml", DeploymentYaml));
        await Ok("rollout", "status", "deployment/web", "-n", Shop, "--timeout=60s");
        var pods = JsonNode.Parse(await Ok("get", "pods", "-n", Shop, "-o", "json"))!["items"]!.AsArray();
        var node = pods[0]!["spec"]!["nodeName"]!.GetValue<string>();

        var drained = await Ok("drain", node, "--ignore-daemonsets", "--timeout=60s");
        Assert.Contains($"node/{node} drained", drained);
        Assert.Matches(@"\s+Ready,SchedulingDisabled\s+", await Ok("get", "node", node));
        await Eventually(async () =>
        {
            var placed = JsonNode.Parse(await Ok("get", "pods", "-n", Shop, "-o", "json"))!["items"]!.AsArray();
            return placed.Count == 2 && placed.All(p => p!["spec"]!["nodeName"]?.GetValue<string>() is { } n && n != node);
        });

        await Ok("uncordon", node);
        Assert.DoesNotContain("SchedulingDisabled", await Ok("get", "node", node));
    }

    /// <summary>Polls until the condition holds: 30 s is for the real controllers' garbage collection, the simulator takes well under one.</summary>
    protected static async Task Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail("condition not reached within 30 s");
    }
}
