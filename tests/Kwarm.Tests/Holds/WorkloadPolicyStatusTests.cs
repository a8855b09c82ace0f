using System.Text.Json.Nodes;
using Kwarm.Holds;
using Kwarm.Resources;

namespace Kwarm.Tests.Holds;

/// <summary>Policy status over every kind: watched counts per kind, active holds of every kind.</summary>
public sealed class WorkloadPolicyStatusTests : IDisposable
{
    private readonly HoldWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void Watched_counts_are_per_kind_and_active_holds_count_every_kind()
    {
        var policy = _world.AddPolicy("default");
        _world.AddHeldDeployment("web", ["registry.local/shop/web:2"]);
        var heldStatefulSet = HoldWorld.StatefulSetJson("db", ["registry.local/data/db:2"], JsonNode.Parse("""{"type":"RollingUpdate","rollingUpdate":{"partition":2147483647}}"""));
        heldStatefulSet["metadata"]!["annotations"] = new JsonObject { [KwarmApi.HoldAnnotation] = "abc", [KwarmApi.PolicyAnnotation] = "default" };
        _world.Put(WorkloadKind.StatefulSet, heldStatefulSet);
        _world.Put(WorkloadKind.StatefulSet, HoldWorld.StatefulSetJson("cache", ["registry.local/data/cache:1"]));
        _world.Put(WorkloadKind.DaemonSet, HoldWorld.DaemonSetJson("agent", ["registry.local/ops/agent:1"]));
        var context = new HoldControllerContext(_world.Deployments, _world.StatefulSets, _world.DaemonSets, _world.PrePullImages, _world.Policies, _world.ServiceAccounts, "test");

        var counts = PolicyStatusCalculator.CountWorkloads(policy, [policy], context.Workloads());
        var status = PolicyStatusCalculator.Desired(policy, counts, _world.Time.GetUtcNow())!;

        Assert.Equal((1, 2, 1, 2), (status.WatchedDeployments, status.WatchedStatefulSets, status.WatchedDaemonSets, status.ActiveHolds));
        Assert.Equal("Selects 1 Deployment(s), 2 StatefulSet(s), 1 DaemonSet(s)", status.Conditions!.Single(c => c.Type == PolicyStatusCalculator.ReadyCondition).Message);
    }

    [Fact]
    public void A_policy_for_DaemonSets_only_watches_no_Deployment_and_an_older_one_outranks_it_only_where_both_apply()
    {
        var older = _world.AddPolicy("older", created: _world.Time.GetUtcNow().UtcDateTime.AddDays(-10));
        older.Spec.Workloads = [WorkloadKind.StatefulSet];
        var agents = _world.AddPolicy("agents");
        agents.Spec.Workloads = [WorkloadKind.DaemonSet, WorkloadKind.StatefulSet];
        _world.AddHeldDeployment("web", ["registry.local/shop/web:2"]);
        _world.Put(WorkloadKind.StatefulSet, HoldWorld.StatefulSetJson("db", ["registry.local/data/db:2"]));
        _world.Put(WorkloadKind.DaemonSet, HoldWorld.DaemonSetJson("agent", ["registry.local/ops/agent:1"]));
        var context = new HoldControllerContext(_world.Deployments, _world.StatefulSets, _world.DaemonSets, _world.PrePullImages, _world.Policies, _world.ServiceAccounts, "test");
        var policies = _world.Policies.List();

        var counts = PolicyStatusCalculator.CountWorkloads(agents, policies, context.Workloads());
        var status = PolicyStatusCalculator.Desired(agents, counts, _world.Time.GetUtcNow())!;

        Assert.Equal((0, 0, 1), (status.WatchedDeployments, status.WatchedStatefulSets, status.WatchedDaemonSets));
        var outranked = status.Conditions!.Single(c => c.Type == PolicyStatusCalculator.OutrankedCondition);
        Assert.Equal("True", outranked.Status);
        Assert.Contains("1 workload(s)", outranked.Message, StringComparison.Ordinal);
        Assert.Contains("StatefulSet shop/db by older", outranked.Message, StringComparison.Ordinal);
    }
}
