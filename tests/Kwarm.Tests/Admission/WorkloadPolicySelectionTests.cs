using Kwarm.Admission;
using Kwarm.Resources;

namespace Kwarm.Tests.Admission;

/// <summary><c>spec.workloads</c> in the webhook's choice of policy: precedence among the policies that apply to the request's kind.</summary>
public sealed class WorkloadPolicySelectionTests
{
    private static readonly DateTime Older = new(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Newer = new(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    private static HoldDecision Review(byte[] body, params PrePullPolicy[] policies) =>
        new AdmissionReviewer(FixtureDecisionTests.CatalogWith(policies), AdmissionFixtures.Kwarm).Review(body).Decision!;

    [Fact]
    public void An_older_policy_for_another_kind_does_not_outrank_the_one_for_this_kind()
    {
        var deploymentsOnly = AdmissionFixtures.Policy("deployments-only", created: Older);
        deploymentsOnly.Spec.Workloads = [WorkloadKind.Deployment];
        var everything = AdmissionFixtures.Policy("everything", created: Newer);

        var statefulSet = Review(WorkloadReviews.Review(WorkloadKind.StatefulSet).ToBytes(), deploymentsOnly, everything);
        var daemonSet = Review(WorkloadReviews.Review(WorkloadKind.DaemonSet).ToBytes(), deploymentsOnly, everything);
        var deployment = Review(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage), deploymentsOnly, everything);

        Assert.Equal(("everything", WorkloadKind.StatefulSet), (statefulSet.PolicyName, statefulSet.Kind));
        Assert.Equal(("everything", WorkloadKind.DaemonSet), (daemonSet.PolicyName, daemonSet.Kind));
        Assert.Equal(("deployments-only", WorkloadKind.Deployment), (deployment.PolicyName, deployment.Kind));
    }

    [Fact]
    public void Without_a_policy_for_the_kind_nothing_is_held()
    {
        var daemonSetsOnly = AdmissionFixtures.Policy("agents");
        daemonSetsOnly.Spec.Workloads = [WorkloadKind.DaemonSet];

        Assert.Equal(HoldReason.NoMatchingPolicy, Review(WorkloadReviews.Review(WorkloadKind.StatefulSet).ToBytes(), daemonSetsOnly).Reason);
        Assert.Equal(HoldReason.NoMatchingPolicy, Review(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage), daemonSetsOnly).Reason);
        Assert.True(Review(WorkloadReviews.Review(WorkloadKind.DaemonSet).ToBytes(), daemonSetsOnly).Holds);
    }
}
