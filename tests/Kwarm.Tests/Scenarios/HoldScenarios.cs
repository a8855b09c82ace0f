using System.Text.Json;
using k8s;
using k8s.Models;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Simulator.Hosting;
using Kwarm.Tests.EndToEnd;
using Kwarm.Workloads;

namespace Kwarm.Tests.Scenarios;

/// <summary>
/// Holds end to end with Kwarm running as a platform team installs it and people acting through the real kubectl
/// (issue 6 scenarios 1 to 8 and the hold lifecycle since), with the pull engine warming the nodes. One definition,
/// run by <see cref="HoldScenariosOnSimulator"/> on the cluster simulator and by <see cref="HoldScenariosOnRealApiServer"/>
/// on a real control plane: where the two disagree, the simulator is wrong. The workload namespace enforces Pod
/// Security <c>restricted</c>, so Kwarm's pull pods are held to it as on a hardened cluster.
/// </summary>
public abstract partial class HoldScenarios : IAsyncLifetime
{
    private const string Shop = "shop";
    private const string Image1 = "registry.local/shop/web:1";
    private const string Image2 = "registry.local/shop/web:2";
    private const string Image3 = "registry.local/shop/web:3";

    /// <summary>Three nodes, whose kubelets pull and start containers a hundred times faster than real time.</summary>
    private const int Nodes = 3;
    private const double TimeFactor = 0.01;

    private IClusterBackend? _cluster;

    protected IClusterBackend Cluster => _cluster ?? throw new InvalidOperationException("the backend did not start");

    /// <summary>Starts this class's backend with <paramref name="nodes"/> Ready nodes named <c>node-0001</c> on, Kwarm not yet running.</summary>
    protected abstract Task<IClusterBackend> StartBackendAsync(int nodes, double timeFactor);

    public async ValueTask InitializeAsync() => _cluster = await StartBackendAsync(Nodes, TimeFactor);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>One attempt per node: a failing pull is final at once instead of after minutes of back-off.</summary>
    private static string Policy(string maxDuration, string onFailure) => $"""
        apiVersion: kwarm.io/v1alpha1
        kind: PrePullPolicy
        metadata:
          name: default
        spec:
          selector:
            matchLabels:
              kwarm.io/enabled: "true"
          retry:
            maxAttempts: 1
          hold:
            maxDuration: {maxDuration}
            onFailure: {onFailure}
        """;

    /// <param name="podSpec">More fields of the pod template's spec (YAML at the spec's own level), e.g. a node selector.</param>
    private static string WebDeployment(string image, int replicas = 2, string podSpec = "") => $"""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {Shop}
          labels:
            pod-security.kubernetes.io/enforce: restricted
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: {Shop}
          labels:
            kwarm.io/enabled: "true"
        spec:
          replicas: {replicas}
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
            spec:
        {Indent(podSpec, "      ")}
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
                seccompProfile:
                  type: RuntimeDefault
              containers:
                - name: web
                  image: {image}
                  securityContext:
                    allowPrivilegeEscalation: false
                    capabilities:
                      drop: ["ALL"]
        """;

    private static string Indent(string yaml, string by) =>
        string.Join("\n", yaml.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => by + line.TrimEnd()));

    /// <summary>Kwarm up with a policy, and web running <see cref="Image1"/> to completion.</summary>
    private Task StartAsync(string maxDuration = "10m", string onFailure = "Release", params string[] kwarmArgs) =>
        StartWithAsync(WebDeployment(Image1), maxDuration, onFailure, kwarmArgs);

    /// <summary>Kwarm up with a policy, and <paramref name="deployment"/> (web) rolled out to completion.</summary>
    private async Task StartWithAsync(string deployment, string maxDuration = "10m", string onFailure = "Release", params string[] kwarmArgs)
    {
        await ApplyAsync(Policy(maxDuration, onFailure));
        await Cluster.StartKwarmAsync(kwarmArgs);
        await ApplyAsync(deployment);
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=60s");
    }

    /// <summary>kubectl apply -f of a manifest, as a person or a GitOps tool would send it.</summary>
    private Task ApplyAsync(string yaml) => KubectlWithManifestAsync("apply", yaml);

    /// <summary>kubectl replace -f: the whole object as the manifest says, without the fields the webhook set.</summary>
    private Task ReplaceAsync(string yaml) =>
        KubectlWithManifestAsync("replace", yaml[(yaml.IndexOf("---\n", StringComparison.Ordinal) + 4)..]);

    private async Task KubectlWithManifestAsync(string verb, string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"kwarm-holds-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml, TestContext.Current.CancellationToken);
        try
        {
            await Cluster.Kubectl.SucceedAsync(verb, "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<PrePullPolicyStatus?> PolicyStatusAsync()
    {
        var policy = await Cluster.Client.CustomObjects.GetClusterCustomObjectAsync(
            KwarmApi.Group, KwarmApi.Version, PrePullPolicy.KubePluralName, "default", cancellationToken: TestContext.Current.CancellationToken);
        return KubernetesJson.Deserialize<PrePullPolicy>(((JsonElement)policy).GetRawText()).Status;
    }

    private Task<V1Deployment> WebAsync() =>
        Cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", Shop, cancellationToken: TestContext.Current.CancellationToken);

    private async Task<IReadOnlyList<PrePullImage>> PrePullImagesAsync()
    {
        var list = await Cluster.Client.CustomObjects.ListNamespacedCustomObjectAsync(
            KwarmApi.Group, KwarmApi.Version, Shop, PrePullImage.KubePluralName, cancellationToken: TestContext.Current.CancellationToken);
        var items = ((JsonElement)list).GetProperty("items");
        return [.. items.EnumerateArray().Select(item => KubernetesJson.Deserialize<PrePullImage>(item.GetRawText()))];
    }

    private async Task<IReadOnlyList<Corev1Event>> KwarmEventsAsync(string reason) =>
        [.. (await Cluster.Client.CoreV1.ListNamespacedEventAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items
            .Where(e => e.Reason == reason && e.InvolvedObject?.Name == "web" && e.Source?.Component == "kwarm")];

    /// <summary>The single HoldReleased event; the controller records it just after the release patch, so it may lag a moment.</summary>
    private async Task<Corev1Event> ReleasedEventAsync()
    {
        await Eventually.WaitUntilAsync(async () => (await KwarmEventsAsync("HoldReleased")).Count > 0, "the HoldReleased event");
        return Assert.Single(await KwarmEventsAsync("HoldReleased"));
    }

    private async Task<V1Deployment> WaitForHoldAsync(string[] images)
    {
        var hold = HoldId.For(images);
        await Eventually.WaitUntilAsync(
            async () => (await WebAsync()).Metadata.Annotations?.TryGetValue(KwarmApi.HoldAnnotation, out var id) == true && id == hold,
            "the hold annotation " + hold);
        await Eventually.WaitUntilAsync(
            async () => (await PrePullImagesAsync()).Any(p => p.Metadata.Labels?[KwarmApi.HoldLabel] == hold),
            "the hold's PrePullImages");
        return await WebAsync();
    }

    private async Task<V1Deployment> WaitForReleaseAsync(string[] images, double seconds = 20)
    {
        var hold = HoldId.For(images);
        await Eventually.WaitUntilAsync(
            async () => (await WebAsync()) is { } d && d.Spec.Paused != true && d.Metadata.Annotations?.TryGetValue(KwarmApi.ReleasedAnnotation, out var id) == true && id == hold,
            "the release of hold " + hold, TimeSpan.FromSeconds(seconds));
        return await WebAsync();
    }

    /// <summary>
    /// Pulls of web's new tags (not of the running one) take a simulated minute: the hold cannot turn warm while a test exercises another way
    /// out of it (the pull engine is running).
    /// </summary>
    private void KeepPullsBusy()
    {
        Cluster.Registry.SetSlow(Image2, 12_000);
        Cluster.Registry.SetSlow(Image3, 12_000);
    }

    /// <summary>The release let the Deployment controller start the rollout: a ReplicaSet of the new template exists.</summary>
    private async Task AssertRolloutStartedAsync(string image) =>
        await Eventually.WaitUntilAsync(
            async () => (await Cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items
                .Any(rs => rs.Spec.Template.Spec.Containers[0].Image == image),
            "a ReplicaSet of " + image);

    private async Task AssertNoReplicaSetCarriesHoldAnnotationsAsync()
    {
        var replicaSets = await Cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(Shop, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEmpty(replicaSets.Items);
        Assert.All(replicaSets.Items, rs =>
        {
            var annotations = rs.Metadata.Annotations ?? new Dictionary<string, string>();
            Assert.False(annotations.ContainsKey(KwarmApi.HoldAnnotation), rs.Metadata.Name + " carries kwarm.io/hold");
            Assert.False(annotations.ContainsKey(KwarmApi.PolicyAnnotation), rs.Metadata.Name + " carries kwarm.io/policy");
            Assert.False(annotations.ContainsKey(KwarmApi.HoldStartedAnnotation), rs.Metadata.Name + " carries kwarm.io/hold-started");
        });
    }

    [Fact]
    public async Task Set_image_is_held_without_a_new_ReplicaSet_and_the_release_annotation_releases_it_at_once()
    {
        KeepPullsBusy();
        await StartAsync();

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);

        var held = await WaitForHoldAsync([Image2]);
        Assert.True(held.Spec.Paused);
        Assert.Equal("default", held.Metadata.Annotations[KwarmApi.PolicyAnnotation]);
        var image = Assert.Single(await PrePullImagesAsync());
        Assert.Equal(Image2, image.Spec.Image);
        Assert.Equal("web", image.Metadata.Labels[KwarmApi.DeploymentLabel]);
        Assert.Equal(held.Metadata.Uid, Assert.Single(image.Metadata.OwnerReferences).Uid);
        Assert.Single((await Cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items);
        var blocked = await Cluster.Kubectl.RunAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=2s");
        Assert.NotEqual(0, blocked.ExitCode);
        Assert.Contains("Waiting for deployment \"web\" rollout to finish", blocked.Out + blocked.Error, StringComparison.Ordinal);
        await Eventually.WaitUntilAsync(async () => (await KwarmEventsAsync("HoldStarted")).Count > 0, "the HoldStarted event");
        Assert.Single(await KwarmEventsAsync("HoldStarted"));
        await Eventually.WaitUntilAsync(async () => await PolicyStatusAsync() is { ActiveHolds: 1, WatchedDeployments: 1 }, "the policy status to count the hold");
        Assert.Contains((await PolicyStatusAsync())!.Conditions!, c => c.Type == "Ready" && c.Status == "True");

        // While nothing changes, the hold controller only watches: no polling GET or LIST, no repeated write. Only the
        // simulator's audit shows every request.
        if (Cluster.Audit is { } audit)
        {
            Assert.Contains(audit.Snapshot().Keys, request => request.User == Cluster.KwarmUser && request.Verb == "create" && request.Resource == "prepullimages");
            audit.Clear();
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            var kwarmRequests = audit.Snapshot().Keys
                .Where(request => request.User == Cluster.KwarmUser && request.Verb != "watch"
                    && (request.Resource is "deployments" or "events" or "prepullpolicies" || (request.Resource == "prepullimages" && request.Subresource is null)))
                .Select(request => $"{request.Verb} {request.Resource}")
                .ToList();
            Assert.Empty(kwarmRequests);
        }

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "annotate", "deployment/web", "kwarm.io/release=true");

        var released = await WaitForReleaseAsync([Image2]);
        Assert.False(released.Metadata.Annotations.ContainsKey(KwarmApi.HoldAnnotation));
        Assert.False(released.Metadata.Annotations.ContainsKey(KwarmApi.ReleaseAnnotation));
        await AssertRolloutStartedAsync(Image2);
        Assert.Equal("Released", (await ReleasedEventAsync()).Action);
        await AssertNoReplicaSetCarriesHoldAnnotationsAsync();
        await Eventually.WaitUntilAsync(async () => await PolicyStatusAsync() is { ActiveHolds: 0, WatchedDeployments: 1 }, "the policy status to drop the hold");
    }

    [Fact]
    public async Task A_hold_that_outlives_maxDuration_fails_open_with_Timeout()
    {
        KeepPullsBusy();
        await StartAsync(maxDuration: "3s");

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);

        await WaitForReleaseAsync([Image2], seconds: 15);
        var released = (await ReleasedEventAsync());
        Assert.Equal("Timeout", released.Action);
        Assert.Equal("Warning", released.Type);
        await AssertRolloutStartedAsync(Image2);
        await AssertNoReplicaSetCarriesHoldAnnotationsAsync();
    }

    [Fact]
    public async Task A_Deployment_paused_by_a_person_before_the_change_is_never_unpaused()
    {
        await StartAsync(maxDuration: "2s");
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "pause", "deployment/web");

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        // Longer than maxDuration: a hold, had there been one, would have been released by now.
        await Task.Delay(TimeSpan.FromSeconds(4), TestContext.Current.CancellationToken);

        var web = await WebAsync();
        Assert.True(web.Spec.Paused);
        Assert.False(web.Metadata.Annotations?.ContainsKey(KwarmApi.HoldAnnotation) ?? false);
        Assert.False(web.Metadata.Annotations?.ContainsKey(KwarmApi.ReleasedAnnotation) ?? false);
        Assert.Empty(await PrePullImagesAsync());
        Assert.Empty(await KwarmEventsAsync("HoldReleased"));
    }

    [Fact]
    public async Task A_second_image_change_during_a_hold_replaces_it_and_deletes_the_first_holds_PrePullImages()
    {
        KeepPullsBusy();
        await StartAsync();
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        var first = (await WaitForHoldAsync([Image2])).Metadata.Annotations[KwarmApi.HoldAnnotation];

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image3);

        await WaitForHoldAsync([Image3]);
        await Eventually.WaitUntilAsync(
            async () => (await PrePullImagesAsync()).All(p => p.Metadata.Labels[KwarmApi.HoldLabel] != first),
            "the first hold's PrePullImages to be deleted");
        Assert.Equal(Image3, Assert.Single(await PrePullImagesAsync()).Spec.Image);
        Assert.True((await WebAsync()).Spec.Paused);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "annotate", "deployment/web", "kwarm.io/release=true");
        await WaitForReleaseAsync([Image3]);
        await AssertRolloutStartedAsync(Image3);
        await AssertNoReplicaSetCarriesHoldAnnotationsAsync();
    }

    [Fact]
    public async Task Changing_back_to_the_running_image_during_a_hold_releases_at_once_as_warm_without_a_rollout()
    {
        KeepPullsBusy();
        await StartAsync();
        var runningPods = await PodNamesAsync();
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        var first = (await WaitForHoldAsync([Image2])).Metadata.Annotations[KwarmApi.HoldAnnotation];
        await Eventually.WaitUntilAsync(async () => (await KwarmEventsAsync("HoldStarted")).Count == 1, "the web:2 hold's HoldStarted");

        // The person thinks better of it while web:2 is still pulling (a simulated minute).
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image1);

        // web:1 is on every node the pods run on: its hold is warm as soon as its PrePullImage looks. The web:2 hold
        // that started ends too, superseded: every HoldStarted has its HoldReleased.
        var released = await WaitForReleaseAsync([Image1]);
        await Eventually.WaitUntilAsync(async () => (await KwarmEventsAsync("HoldReleased")).Count == 2, "both HoldReleased events");
        var releases = await KwarmEventsAsync("HoldReleased");
        Assert.Equal(["Superseded", "Warm"], releases.Select(e => e.Action).Order(StringComparer.Ordinal));
        Assert.StartsWith($"Hold {first} released (Superseded)", releases.Single(e => e.Action == "Superseded").Message, StringComparison.Ordinal);
        Assert.Equal(2, (await KwarmEventsAsync("HoldStarted")).Count);
        Assert.NotEqual(first, released.Metadata.Annotations[KwarmApi.ReleasedAnnotation]);
        await Eventually.WaitUntilAsync(
            async () => (await PrePullImagesAsync()).All(p => p.Metadata.Labels[KwarmApi.HoldLabel] != first),
            "the web:2 hold's PrePullImages to be deleted");
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=30s");
        var replicaSets = (await Cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items;
        Assert.Equal(Image1, Assert.Single(replicaSets).Spec.Template.Spec.Containers[0].Image);
        Assert.Equal(runningPods, await PodNamesAsync());
        // web:1's ReplicaSet was the template's again while the web:1 hold was placed: the Deployment controller copied
        // the hold's annotations onto it, and never removes an annotation from a ReplicaSet (README, How a hold works).
        Assert.Equal(released.Metadata.Annotations[KwarmApi.ReleasedAnnotation], Assert.Single(replicaSets).Metadata.Annotations[KwarmApi.HoldAnnotation]);
    }

    private async Task<IReadOnlyList<string>> PodNamesAsync() =>
        [.. (await Cluster.Client.CoreV1.ListNamespacedPodAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items
            .Select(pod => pod.Metadata.Name).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Scale_and_reapply_during_a_hold_keep_it_and_rollout_resume_releases_it()
    {
        KeepPullsBusy();
        await StartAsync();
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "scale", "deployment/web", "--replicas=3");
        await Eventually.WaitUntilAsync(
            async () => (await Cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items
                is [{ Spec.Replicas: 3 } only] && only.Spec.Template.Spec.Containers[0].Image == Image1,
            "the scale to apply to the old ReplicaSet");
        // A GitOps tool re-applying the manifest that carries the new image, as a client-side apply, a merge patch,
        // a strategic merge patch and a full replace (which drops paused and the annotations): the hold stays.
        await ApplyAsync(WebDeployment(Image2, replicas: 3));
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "patch", "deployment/web", "--type=merge", "-p", """{"metadata":{"labels":{"team":"shop"}}}""");
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "patch", "deployment/web", "--type=strategic", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.local/shop/web:2"}]}}}}""");
        await ReplaceAsync(WebDeployment(Image2, replicas: 3));
        var stillHeld = await WebAsync();
        Assert.True(stillHeld.Spec.Paused);
        Assert.Equal(HoldId.For([Image2]), stillHeld.Metadata.Annotations[KwarmApi.HoldAnnotation]);
        Assert.Equal("default", stillHeld.Metadata.Annotations[KwarmApi.PolicyAnnotation]);
        Assert.Single((await Cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(Shop, cancellationToken: TestContext.Current.CancellationToken)).Items);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "resume", "deployment/web");

        await WaitForReleaseAsync([Image2]);
        Assert.Equal("Released", (await ReleasedEventAsync()).Action);
        await AssertRolloutStartedAsync(Image2);
    }

    [Fact]
    public async Task Set_image_is_pre_pulled_on_every_node_released_as_Warm_and_no_new_pod_waits_on_a_pull()
    {
        await StartAsync();
        var nodes = (await Cluster.Client.CoreV1.ListNodeAsync(cancellationToken: TestContext.Current.CancellationToken)).Items.Select(n => n.Metadata.Name).ToList();

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);

        await WaitForReleaseAsync([Image2], seconds: 40);
        Assert.Equal("Warm", (await ReleasedEventAsync()).Action);
        var image = Assert.Single(await PrePullImagesAsync());
        Assert.Equal(PrePullImagePhase.Completed, image.Status!.Phase);
        Assert.Equal(nodes.Count, image.Status.Summary!.Completed + image.Status.Summary.Skipped);
        foreach (var node in nodes)
        {
            Assert.Contains(Cluster.CachedImages(node), cached => cached.Contains("shop/web:2", StringComparison.Ordinal));
        }

        var pullsAtRelease = nodes.ToDictionary(n => n, Cluster.PullCount);
        await Cluster.Kubectl.SucceedAsync("-n", Shop, "rollout", "status", "deployment/web", "--timeout=30s");
        Assert.Equal(pullsAtRelease, nodes.ToDictionary(n => n, Cluster.PullCount));
        await AssertNoReplicaSetCarriesHoldAnnotationsAsync();
    }

    [Theory]
    [InlineData("Release")]
    [InlineData("Wait")]
    public async Task A_failing_pull_releases_as_PullFailed_or_with_Wait_holds_until_maxDuration(string onFailure)
    {
        Cluster.Registry.MarkMissing(Image2);
        await StartAsync(maxDuration: "15s", onFailure: onFailure);

        await Cluster.Kubectl.SucceedAsync("-n", Shop, "set", "image", "deployment/web", "web=" + Image2);
        await WaitForHoldAsync([Image2]);
        await Eventually.WaitUntilAsync(async () => (await KwarmEventsAsync("PullFailed")).Count > 0, "the PullFailed event");
        var failure = Assert.Single(await KwarmEventsAsync("PullFailed"));
        Assert.Contains("not found", failure.Message, StringComparison.Ordinal);
        if (onFailure == "Wait")
        {
            Assert.True((await WebAsync()).Spec.Paused, "onFailure: Wait released before maxDuration");
        }

        await WaitForReleaseAsync([Image2], seconds: 40);
        Assert.Equal(onFailure == "Release" ? "PullFailed" : "Timeout", (await ReleasedEventAsync()).Action);
        Assert.Single(await KwarmEventsAsync("PullFailed"));
    }

    [Fact]
    public async Task An_image_no_node_can_pull_is_let_through_unheld_with_a_warning_kubectl_prints()
    {
        // The API server takes "registry.local/shop/web:" in a Deployment (the kubelet would answer InvalidImageName).
        // Holding it would only delay a rollout that fails either way: the webhook lets it through and says why.
        await StartAsync(onFailure: "Wait");
        const string invalid = "registry.local/shop/web:";

        var set = await Cluster.Kubectl.RunAsync("-n", Shop, "set", "image", "deployment/web", "web=" + invalid);

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("kwarm: not held: ", set.Error, StringComparison.Ordinal);
        Assert.Contains("\"registry.local/shop/web:\" is not a valid image reference", set.Error, StringComparison.Ordinal);
        var web = await WebAsync();
        Assert.NotEqual(true, web.Spec.Paused);
        Assert.False(web.Metadata.Annotations?.ContainsKey(KwarmApi.HoldAnnotation) ?? false);
        Assert.Empty(await PrePullImagesAsync());
    }

    [Fact]
    public async Task A_policy_with_a_label_key_only_CEL_would_refuse_is_not_Ready_and_says_which_field()
    {
        // Like Kubernetes 1.24, the simulator does not run the CRD's CEL rules: the matchLabels key gets through.
        await Cluster.StartKwarmAsync();
        await ApplyAsync("""
            apiVersion: kwarm.io/v1alpha1
            kind: PrePullPolicy
            metadata:
              name: default
            spec:
              selector:
                matchLabels:
                  "bad key!": "true"
            """);

        await Eventually.WaitUntilAsync(async () => (await PolicyStatusAsync())?.Conditions?.Any(c => c.Type == "Ready") == true, "the policy's Ready condition");
        var ready = (await PolicyStatusAsync())!.Conditions!.Single(c => c.Type == "Ready");
        Assert.Equal(("False", "InvalidSpec"), (ready.Status, ready.Reason));
        Assert.StartsWith("spec.selector.matchLabels: key \"bad key!\" is not a label key", ready.Message, StringComparison.Ordinal);
    }
}
