using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

public sealed class EffectiveValuesTests
{
    [Fact]
    public void Configured_values_win_over_defaults()
    {
        var spec = Samples.ToTyped<PrePullPolicy>(Samples.Read(Samples.FullPolicy)).Spec;

        Assert.Equal(4, spec.EffectiveRetry.EffectiveMaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(15), spec.EffectiveRetry.EffectiveBackoff);
        Assert.Equal(TimeSpan.FromSeconds(330), spec.EffectiveTimeout);
        Assert.True(spec.EffectiveHold.EffectiveOnCreate);
        Assert.Equal(TimeSpan.FromMinutes(20), spec.EffectiveHold.EffectiveMaxDuration);
        Assert.Equal(HoldFailureAction.Wait, spec.EffectiveHold.EffectiveOnFailure);
        Assert.Equal("mirror-registry", Assert.Single(spec.EffectiveAdditionalImagePullSecrets).Name);
        Assert.Equal("50m", spec.EffectiveResources.Requests["cpu"].ToString());
        Assert.Equal("200m", spec.EffectiveResources.Limits["cpu"].ToString());
        Assert.Empty(spec.Validate());
    }

    [Fact]
    public void Workloads_default_to_all_three_kinds_and_an_empty_or_unknown_entry_is_reported()
    {
        Assert.Equal([WorkloadKind.Deployment, WorkloadKind.StatefulSet, WorkloadKind.DaemonSet], new PrePullPolicySpec().EffectiveWorkloads.Order());

        var onlyDaemonSets = new PrePullPolicySpec { Selector = new DeploymentSelector(), Workloads = [WorkloadKind.DaemonSet, (WorkloadKind)9, WorkloadKind.DaemonSet] };
        Assert.Equal([WorkloadKind.DaemonSet], onlyDaemonSets.EffectiveWorkloads);
        Assert.Equal("spec.workloads[1]: 9 is not Deployment, StatefulSet or DaemonSet; ignored", Assert.Single(onlyDaemonSets.Validate()));

        var none = new PrePullPolicySpec { Selector = new DeploymentSelector(), Workloads = [] };
        Assert.Empty(none.EffectiveWorkloads);
        Assert.StartsWith("spec.workloads: the list is empty", Assert.Single(none.Validate()), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_the_schema_cannot_stop_fall_back_to_the_defaults_and_are_reported()
    {
        var spec = new PrePullPolicySpec
        {
            Selector = new DeploymentSelector(),
            Timeout = "0s",
            Retry = new RetrySpec { MaxAttempts = 0, BackoffSeconds = -5 },
            Hold = new HoldSpec { MaxDuration = "soon", OnFailure = (HoldFailureAction)7 },
        };

        Assert.Equal(TimeSpan.FromMinutes(10), spec.EffectiveTimeout);
        Assert.Equal(3, spec.EffectiveRetry.MaxAttempts);
        Assert.Equal(30, spec.EffectiveRetry.BackoffSeconds);
        Assert.Equal(TimeSpan.FromMinutes(15), spec.EffectiveHold.EffectiveMaxDuration);
        Assert.Equal("15m", spec.EffectiveHold.MaxDuration);
        Assert.Equal(HoldFailureAction.Release, spec.EffectiveHold.OnFailure);
        Assert.Equal(
            [
                "spec.timeout: must be longer than zero; the default is used",
                "spec.retry.maxAttempts: must be between 1 and 100, got 0; the default 3 is used",
                "spec.retry.backoffSeconds: must be between 1 and 3600, got -5; the default 30 is used",
                "spec.hold.maxDuration: \"soon\" is not a Go duration: expected a number at \"soon\" (for example 90s, 10m, 1h30m or 500ms); the default is used",
                "spec.hold.onFailure: 7 is not Release or Wait; Release is used",
            ],
            spec.Validate());
    }

    [Fact]
    public void PrePullImage_reports_a_missing_image_and_a_bad_timeout()
    {
        var spec = new PrePullImageSpec { Image = " ", Timeout = "10" };

        Assert.Equal(
            ["spec.image: an image reference is required", "spec.timeout: \"10\" is not a Go duration: missing unit after \"10\" (use ns, us, ms, s, m or h) (for example 90s, 10m, 1h30m or 500ms); the default is used"],
            spec.Validate());
        Assert.Equal(TimeSpan.FromMinutes(10), spec.EffectiveTimeout);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 30)]
    [InlineData(3, 60)]
    [InlineData(4, 120)]
    [InlineData(5, 240)]
    [InlineData(6, 300)]
    [InlineData(50, 300)]
    [InlineData(int.MaxValue, 300)]
    public void Backoff_doubles_from_the_configured_delay_and_is_capped(int attempt, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), new RetrySpec().DelayBeforeAttempt(attempt));
    }

    [Fact]
    public void A_backoff_longer_than_the_cap_is_kept()
    {
        var retry = new RetrySpec { BackoffSeconds = 600 };

        Assert.Equal(TimeSpan.FromSeconds(600), retry.DelayBeforeAttempt(2));
        Assert.Equal(TimeSpan.FromSeconds(600), retry.DelayBeforeAttempt(5));
    }

    [Fact]
    public void Resources_fill_only_what_is_missing_and_stay_a_valid_pod_spec()
    {
        var configured = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m"), ["ephemeral-storage"] = new("1Gi") },
            Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("32Mi") },
        };

        var effective = PullDefaults.EffectiveResources(configured);

        // cpu: request set by the user, limit raised from 100m to the request.
        Assert.Equal("250m", effective.Requests["cpu"].ToString());
        Assert.Equal("250m", effective.Limits["cpu"].ToString());
        // memory: the request follows the user's limit (the API server's own rule).
        Assert.Equal("32Mi", effective.Requests["memory"].ToString());
        Assert.Equal("32Mi", effective.Limits["memory"].ToString());
        Assert.Equal("1Gi", effective.Requests["ephemeral-storage"].ToString());
        Assert.False(effective.Limits.ContainsKey("ephemeral-storage"));
        // The configured object is left untouched.
        Assert.Equal(2, configured.Requests.Count);
        Assert.Single(configured.Limits);
    }

    [Fact]
    public void Default_resources_are_fresh_copies()
    {
        var first = PullDefaults.CreateResources();
        first.Requests["cpu"] = new ResourceQuantity("2");

        Assert.Equal("100m", PullDefaults.CreateResources().Requests["cpu"].ToString());
        Assert.Equal("100m", new PrePullImageSpec().EffectiveResources.Requests["cpu"].ToString());
    }

    [Theory]
    [InlineData("nginx:1.27", null, "nginx:1.27")]
    [InlineData("nginx:1.27", "sha256:abc", "nginx@sha256:abc")]
    [InlineData("nginx", "sha256:abc", "nginx@sha256:abc")]
    [InlineData("registry:5000/team/app:1.2", "sha256:abc", "registry:5000/team/app@sha256:abc")]
    [InlineData("registry:5000/team/app", "sha256:abc", "registry:5000/team/app@sha256:abc")]
    [InlineData("registry/app:1.2@sha256:old", "sha256:new", "registry/app@sha256:new")]
    [InlineData("registry/app:1.2", "", "registry/app:1.2")]
    public void Pull_reference_pins_the_repository_to_the_digest(string image, string? digest, string expected)
    {
        Assert.Equal(expected, new PrePullImageSpec { Image = image, ImageDigest = digest }.PullReference);
    }

    [Theory]
    [InlineData(null, "shop", true)]
    [InlineData(new string[0], "shop", true)]
    [InlineData(new[] { "shop", "payments" }, "payments", true)]
    [InlineData(new[] { "shop" }, "Shop", false)]
    [InlineData(new[] { "shop" }, "kube-system", false)]
    public void Empty_namespace_list_means_all_namespaces(string[]? namespaces, string candidate, bool included)
    {
        Assert.Equal(included, new DeploymentSelector { Namespaces = namespaces }.IncludesNamespace(candidate));
    }

    [Fact]
    public void A_quantity_too_large_for_the_client_library_falls_back_to_the_default_and_is_reported()
    {
        // The schema's quantity pattern takes any number of digits; printing this one throws in the client library.
        var json = """{"apiVersion":"kwarm.io/v1alpha1","kind":"PrePullPolicy","metadata":{"name":"q"},"spec":{"selector":{},"resources":{"limits":{"cpu":"99999999999999999999999999999999999999999","memory":"128Mi"}}}}""";
        var spec = Kwarm.Kubernetes.KwarmJson.Deserialize<PrePullPolicy>(json)!.Spec;

        var resources = spec.EffectiveResources;

        Assert.Equal(("100m", "128Mi"), (resources.Limits["cpu"].ToString(), resources.Limits["memory"].ToString()));
        Assert.Equal(["spec.resources.limits.cpu: the quantity is too large to use; the default is used"], spec.Validate());
    }
}
