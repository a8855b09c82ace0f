using System.Text.Json.Nodes;
using k8s.Models;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Workloads;

namespace Kwarm.Tests.Admission;

/// <summary>Which PrePullPolicy holds a Deployment: namespaces, label expressions, and the oldest-wins rule.</summary>
public sealed class PolicySelectionTests
{
    private static readonly DateTime Older = new(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Newer = new(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    private static ReviewOutcome ReviewSetImage(params PrePullPolicy[] policies) =>
        new AdmissionReviewer(FixtureDecisionTests.CatalogWith(policies), AdmissionFixtures.Kwarm).Review(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage));

    [Theory]
    [InlineData(new[] { "shop" }, true)]
    [InlineData(new[] { "payments", "shop" }, true)]
    [InlineData(new[] { "payments" }, false)]
    [InlineData(new string[0], true)]
    public void Namespaces_limit_the_policy(string[] namespaces, bool holds)
    {
        var outcome = ReviewSetImage(AdmissionFixtures.Policy(namespaces: namespaces));

        Assert.Equal(holds ? HoldReason.ImagesChanged : HoldReason.NoMatchingPolicy, outcome.Decision!.Reason);
    }

    [Theory]
    [InlineData("app", "In", new[] { "api", "web" }, true)]
    [InlineData("app", "In", new[] { "web" }, false)]
    [InlineData("app", "NotIn", new[] { "web" }, true)]
    [InlineData("app", "NotIn", new[] { "api" }, false)]
    [InlineData("app", "Exists", null, true)]
    [InlineData("team", "Exists", null, false)]
    [InlineData("team", "DoesNotExist", null, true)]
    [InlineData("app", "DoesNotExist", null, false)]
    public void Match_expressions_select_over_the_deployments_labels(string key, string op, string[]? values, bool holds)
    {
        var policy = AdmissionFixtures.Policy(
            matchLabels: new Dictionary<string, string>(),
            matchExpressions: [new V1LabelSelectorRequirement { Key = key, OperatorProperty = op, Values = values }]);

        Assert.Equal(holds ? HoldReason.ImagesChanged : HoldReason.NoMatchingPolicy, ReviewSetImage(policy).Decision!.Reason);
    }

    [Fact]
    public void Oldest_matching_policy_wins_and_its_name_is_written()
    {
        var outcome = ReviewSetImage(
            AdmissionFixtures.Policy(name: "alpha", created: Newer),
            AdmissionFixtures.Policy(name: "zeta", created: Older),
            AdmissionFixtures.Policy(name: "aardvark", created: new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), namespaces: ["elsewhere"]));

        Assert.Equal("zeta", outcome.Decision!.PolicyName);
        var patch = JsonNode.Parse(FixtureDecisionTests.ResponseOf(outcome).Patch!)!.AsArray();
        Assert.Equal("zeta", (string?)patch[2]!["value"]);
    }

    [Fact]
    public void Same_age_is_settled_by_name()
    {
        var outcome = ReviewSetImage(AdmissionFixtures.Policy(name: "beta", created: Older), AdmissionFixtures.Policy(name: "alpha", created: Older));

        Assert.Equal("alpha", outcome.Decision!.PolicyName);
    }

    [Fact]
    public void Winner_decides_even_when_it_disables_holds()
    {
        var outcome = ReviewSetImage(AdmissionFixtures.Policy(name: "new-holds", created: Newer), AdmissionFixtures.Policy(name: "old-no-hold", created: Older, holdEnabled: false));

        Assert.Equal(HoldReason.HoldDisabled, outcome.Decision!.Reason);
    }

    [Fact]
    public void Policy_without_selector_selects_nothing_but_an_empty_selector_selects_all()
    {
        var labels = new Dictionary<string, string> { ["app"] = "api" };
        var withoutSelector = new PrePullPolicy { Metadata = new V1ObjectMeta { Name = "none" } };
        var emptySelector = new PrePullPolicy { Metadata = new V1ObjectMeta { Name = "all" }, Spec = new PrePullPolicySpec { Selector = new DeploymentSelector() } };

        Assert.False(PolicyMatcher.Selects(withoutSelector, "shop", labels));
        Assert.True(PolicyMatcher.Selects(emptySelector, "shop", labels));
    }

    [Fact]
    public void Policy_being_deleted_starts_no_hold()
    {
        var deleting = AdmissionFixtures.Policy();
        deleting.Metadata.DeletionTimestamp = Newer;

        Assert.Equal(HoldReason.NoMatchingPolicy, ReviewSetImage(deleting).Decision!.Reason);
    }

    [Fact]
    public void Matching_lists_every_match_winner_first()
    {
        var policies = new[]
        {
            AdmissionFixtures.Policy(name: "c", created: Newer),
            AdmissionFixtures.Policy(name: "b", created: Older),
            AdmissionFixtures.Policy(name: "a", created: Newer),
            AdmissionFixtures.Policy(name: "other-namespace", created: Older, namespaces: ["x"]),
        };

        var matching = PolicyMatcher.Matching(policies, "shop", new Dictionary<string, string> { [KwarmApi.EnabledLabel] = "true" });

        Assert.Equal(["b", "a", "c"], matching.Select(policy => policy.Metadata.Name));
    }

    [Fact]
    public void Label_selector_requires_every_match_label_and_expression()
    {
        var selector = new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" },
            MatchExpressions = [new V1LabelSelectorRequirement { Key = "pool", OperatorProperty = "In", Values = ["a", "b"] }],
        };

        Assert.True(LabelSelectors.Matches(selector, new Dictionary<string, string> { ["kubernetes.io/os"] = "linux", ["pool"] = "b" }));
        Assert.False(LabelSelectors.Matches(selector, new Dictionary<string, string> { ["kubernetes.io/os"] = "linux", ["pool"] = "c" }));
        Assert.False(LabelSelectors.Matches(selector, new Dictionary<string, string> { ["kubernetes.io/os"] = "windows", ["pool"] = "a" }));
        Assert.False(LabelSelectors.Matches(selector, labels: null));
        Assert.True(LabelSelectors.Matches(new V1LabelSelector(), labels: null));
    }

    [Theory]
    [InlineData("In", null)]
    [InlineData("NotIn", null)]
    [InlineData("Gt", new[] { "1" })]
    [InlineData("in", new[] { "linux" })]
    public void Invalid_requirements_match_nothing(string op, string[]? values)
    {
        var requirement = new V1LabelSelectorRequirement { Key = "kubernetes.io/os", OperatorProperty = op, Values = values };

        var selector = new V1LabelSelector { MatchExpressions = [requirement] };

        Assert.False(LabelSelectors.Matches(selector, new Dictionary<string, string> { ["kubernetes.io/os"] = "linux" }));
        Assert.False(LabelSelectors.Matches(selector, new Dictionary<string, string>()));
    }
}

public sealed class PolicyCatalogTests
{
    [Fact]
    public void Upsert_replaces_by_name_and_remove_forgets()
    {
        var catalog = new InMemoryPolicyCatalog();
        catalog.Upsert(AdmissionFixtures.Policy(name: "a"));
        catalog.Upsert(AdmissionFixtures.Policy(name: "b"));
        catalog.Upsert(AdmissionFixtures.Policy(name: "a", holdEnabled: false));

        Assert.Equal(["a", "b"], catalog.Policies.Select(policy => policy.Metadata.Name));
        Assert.False(catalog.Policies[0].Spec.Hold!.Enabled);

        catalog.Remove("a");
        Assert.Equal(["b"], catalog.Policies.Select(policy => policy.Metadata.Name));
        catalog.Remove("missing");
        Assert.Single(catalog.Policies);
    }

    [Fact]
    public void Replace_swaps_the_whole_set_and_keeps_earlier_snapshots_intact()
    {
        var catalog = new InMemoryPolicyCatalog();
        catalog.Replace([AdmissionFixtures.Policy(name: "old-1"), AdmissionFixtures.Policy(name: "old-2")]);
        var snapshot = catalog.Policies;

        catalog.Replace([AdmissionFixtures.Policy(name: "new")]);

        Assert.Equal(["new"], catalog.Policies.Select(policy => policy.Metadata.Name));
        Assert.Equal(["old-1", "old-2"], snapshot.Select(policy => policy.Metadata.Name));
    }

    [Fact]
    public void Snapshot_is_ordered_oldest_first()
    {
        var catalog = new InMemoryPolicyCatalog();
        catalog.Upsert(AdmissionFixtures.Policy(name: "young", created: new DateTime(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc)));
        catalog.Upsert(AdmissionFixtures.Policy(name: "old", created: new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc)));

        Assert.Equal(["old", "young"], catalog.Policies.Select(policy => policy.Metadata.Name));
    }

    [Fact]
    public void Policy_without_a_name_is_refused()
    {
        var catalog = new InMemoryPolicyCatalog();

        Assert.Throws<ArgumentException>(() => catalog.Upsert(new PrePullPolicy()));
    }

    [Fact]
    public async Task Concurrent_writers_and_readers_never_see_a_torn_catalogue()
    {
        var catalog = new InMemoryPolicyCatalog();
        var names = Enumerable.Range(0, 50).Select(index => $"policy-{index:D2}").ToArray();
        var writers = names.Select(name => Task.Run(() => catalog.Upsert(AdmissionFixtures.Policy(name: name)), TestContext.Current.CancellationToken));
        var reader = Task.Run(() =>
        {
            for (var round = 0; round < 2000; round++)
            {
                var snapshot = catalog.Policies;
                Assert.Equal(snapshot.Count, snapshot.Select(policy => policy.Metadata.Name).Distinct().Count());
            }
        }, TestContext.Current.CancellationToken);

        await Task.WhenAll(writers.Append(reader));

        Assert.Equal(names, catalog.Policies.Select(policy => policy.Metadata.Name));
    }
}

public sealed class HoldIdTests
{
    [Fact]
    public void Id_depends_on_the_image_set_only()
    {
        var id = HoldId.For(["b:1", "a:1"]);

        Assert.Equal(id, HoldId.For(["a:1", "b:1", "a:1"]));
        Assert.NotEqual(id, HoldId.For(["a:1", "b:2"]));
        Assert.Equal(HoldId.Length, id.Length);
        Assert.Matches("^[0-9a-f]+$", id);
    }

    [Fact]
    public void Pointer_tokens_are_escaped_as_rfc_6901_says()
    {
        Assert.Equal("kwarm.io~1hold", JsonPatchOperation.EscapePointerToken("kwarm.io/hold"));
        Assert.Equal("a~0~1b", JsonPatchOperation.EscapePointerToken("a~/b"));
    }
}
