using k8s;
using k8s.Models;
using Kwarm.Holds;
using Kwarm.Kubernetes;
using Kwarm.Resources;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Tests.Holds;

public sealed class PolicyStatusTests : IDisposable
{
    private readonly HoldWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void The_oldest_policy_watches_a_Deployment_both_select_and_the_younger_one_says_it_lost()
    {
        var older = _world.AddPolicy("older", created: new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var younger = _world.AddPolicy("younger", created: new DateTime(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc));
        _world.AddHeldDeployment("web", ["web:2"], policy: "older");
        _world.Upsert(HoldWorld.Deployment("api", ["api:1"]));
        var policies = _world.Policies.List();
        var deployments = _world.Deployments.List();
        var now = _world.Time.GetUtcNow();

        var olderStatus = PolicyStatusCalculator.Desired(older, PolicyStatusCalculator.Count(older, policies, deployments), now)!;
        var youngerStatus = PolicyStatusCalculator.Desired(younger, PolicyStatusCalculator.Count(younger, policies, deployments), now)!;

        Assert.Equal((2, 1), (olderStatus.WatchedDeployments, olderStatus.ActiveHolds));
        Assert.Equal((0, 0), (youngerStatus.WatchedDeployments, youngerStatus.ActiveHolds));
        Assert.Equal("False", olderStatus.Conditions!.Single(c => c.Type == PolicyStatusCalculator.OutrankedCondition).Status);
        var lost = youngerStatus.Conditions!.Single(c => c.Type == PolicyStatusCalculator.OutrankedCondition);
        Assert.Equal(("True", "OlderPolicyWins"), (lost.Status, lost.Reason));
        Assert.Contains("shop/web by older", lost.Message, StringComparison.Ordinal);
        Assert.Equal("True", olderStatus.Conditions!.Single(c => c.Type == PolicyStatusCalculator.ReadyCondition).Status);
        Assert.Equal(now.UtcDateTime, olderStatus.LastUpdated);
    }

    [Fact]
    public void An_unchanged_status_is_not_written_again_and_a_change_keeps_unchanged_conditions_transition_times()
    {
        var policy = _world.AddPolicy("only");
        _world.Upsert(HoldWorld.Deployment("api", ["api:1"]));
        var first = PolicyStatusCalculator.Desired(policy, PolicyStatusCalculator.Count(policy, _world.Policies.List(), _world.Deployments.List()), _world.Time.GetUtcNow())!;
        var stored = policy with { Status = first };
        _world.Time.Advance(TimeSpan.FromMinutes(3));

        Assert.Null(PolicyStatusCalculator.Desired(stored, PolicyStatusCalculator.Count(stored, [stored], _world.Deployments.List()), _world.Time.GetUtcNow()));

        _world.AddHeldDeployment("web", ["web:2"], policy: "only");
        var second = PolicyStatusCalculator.Desired(stored, PolicyStatusCalculator.Count(stored, [stored], _world.Deployments.List()), _world.Time.GetUtcNow())!;
        Assert.Equal((2, 1), (second.WatchedDeployments, second.ActiveHolds));
        Assert.Equal(first.Conditions![0].LastTransitionTime, second.Conditions![0].LastTransitionTime);
        Assert.Equal(_world.Time.GetUtcNow().UtcDateTime, second.LastUpdated);
    }

    [Fact]
    public void A_policy_with_an_invalid_value_is_not_Ready_and_says_why()
    {
        var policy = _world.AddPolicy("bad", new HoldSpec { MaxDuration = "0s" });

        var status = PolicyStatusCalculator.Desired(policy, PolicyStatusCalculator.Count(policy, [policy], []), _world.Time.GetUtcNow())!;

        var ready = status.Conditions!.Single(c => c.Type == PolicyStatusCalculator.ReadyCondition);
        Assert.Equal(("False", "InvalidSpec"), (ready.Status, ready.Reason));
        Assert.Contains("spec.hold.maxDuration", ready.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_stored_with_an_attempt_count_beyond_int32_is_read_reported_and_uses_the_default()
    {
        // What a CRD without a maximum (an older one: Helm never upgrades CRDs) lets the API server store; it used to
        // make the whole object unreadable, so the policy vanished from Kwarm's view with a log line and no status.
        const string line = """{"type":"ADDED","object":{"apiVersion":"kwarm.io/v1alpha1","kind":"PrePullPolicy","metadata":{"name":"big","uid":"u1","generation":2,"resourceVersion":"7","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"selector":{},"retry":{"maxAttempts":2147483648,"backoffSeconds":30}}}}""";

        var parsed = KubernetesListWatcher<PrePullPolicy>.ParseEvent(line, KwarmJson.Options, "prepullpolicies", NullLogger.Instance);

        Assert.Equal(WatchEventType.Added, parsed.Type);
        var policy = parsed.Resource!;
        Assert.Equal(2147483648L, policy.Spec.Retry!.MaxAttempts);
        Assert.Equal(RetrySpec.DefaultMaxAttempts, policy.Spec.EffectiveRetry.MaxAttempts);
        var status = PolicyStatusCalculator.Desired(policy, PolicyStatusCalculator.Count(policy, [policy], []), _world.Time.GetUtcNow())!;
        var ready = status.Conditions!.Single(c => c.Type == PolicyStatusCalculator.ReadyCondition);
        Assert.Equal(("False", "InvalidSpec", 2L), (ready.Status, ready.Reason, ready.ObservedGeneration));
        Assert.Equal("spec.retry.maxAttempts: must be between 1 and 100, got 2147483648; the default 3 is used", ready.Message);
    }

    [Theory]
    [InlineData("""{"selector": {"matchLabels": {"bad key!": "true"}}}""", "spec.selector.matchLabels: key \"bad key!\" is not a label key")]
    [InlineData("""{"selector": {"matchExpressions": [{"key": "bad key!", "operator": "Exists"}]}}""", "spec.selector.matchExpressions[0].key: \"bad key!\" is not a label key")]
    [InlineData("""{"selector": {}, "nodeSelector": {"matchLabels": {"bad key!": "a"}}}""", "spec.nodeSelector.matchLabels: key \"bad key!\" is not a label key")]
    [InlineData("""{"selector": {}, "nodeSelector": {"matchExpressions": [{"key": "cpu", "operator": "Gt", "values": ["4", "8"]}]}}""", "spec.nodeSelector.matchExpressions[0].operator: \"Gt\" is not In, NotIn, Exists or DoesNotExist")]
    [InlineData("""{"selector": {"matchExpressions": [{"key": "tier", "operator": "Exists", "values": ["web"]}]}}""", "spec.selector.matchExpressions[0].values: Exists takes no values")]
    [InlineData("""{"selector": {"namespaces": ["Shop"]}}""", "spec.selector.namespaces[0]: \"Shop\" is not a DNS-1123 label")]
    [InlineData("""{"selector": {}, "hold": {"maxDuration": "99999999h"}}""", "spec.hold.maxDuration: \"99999999h\" is not a Go duration")]
    [InlineData("""{"selector": {}, "hold": {"maxDuration": "48h"}}""", "spec.hold.maxDuration: must be at most 24h0m0s, got 48h; the default is used")]
    [InlineData("""{"selector": {}, "timeout": "25h"}""", "spec.timeout: must be at most 24h0m0s, got 25h; the default is used")]
    [InlineData("""{"selector": {}, "retry": {"backoffSeconds": 86400}}""", "spec.retry.backoffSeconds: must be between 1 and 3600, got 86400; the default 30 is used")]
    [InlineData("""{"selector": {}, "priorityClassName": "High Priority"}""", "spec.priorityClassName: \"High Priority\" is not a DNS-1123 subdomain")]
    public void A_value_the_schema_refuses_that_got_through_makes_the_policy_not_Ready_naming_the_field(string spec, string problem)
    {
        var policy = KwarmJson.Deserialize<PrePullPolicy>($$"""{"apiVersion":"kwarm.io/v1alpha1","kind":"PrePullPolicy","metadata":{"name":"bad","generation":1},"spec":{{spec}}}""")!;

        var status = PolicyStatusCalculator.Desired(policy, PolicyStatusCalculator.Count(policy, [policy], []), _world.Time.GetUtcNow())!;

        var ready = status.Conditions!.Single(c => c.Type == PolicyStatusCalculator.ReadyCondition);
        Assert.Equal(("False", "InvalidSpec"), (ready.Status, ready.Reason));
        Assert.StartsWith(problem, ready.Message, StringComparison.Ordinal);
    }
}
