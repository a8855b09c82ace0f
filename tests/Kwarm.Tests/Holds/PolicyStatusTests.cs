using k8s.Models;
using Kwarm.Holds;
using Kwarm.Resources;

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
}
