using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.RealApiServer;

namespace Kwarm.Tests.Resources;

/// <summary>
/// The workload samples as a real v1.24 API server judges them: valid objects, and pod templates its Pod Security
/// admission finds restricted (it warns, for workloads, about what their pods would violate).
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
public sealed class SamplesOnRealApiServerTests(RealControlPlaneFixture fixture)
{
    private const string Namespace = "samples-restricted";

    [Theory]
    [InlineData(Samples.StatefulSet, false)]
    [InlineData(Samples.DaemonSet, false)]
    // The Deployment example predates the restricted examples (nginx runs as root): the check that tells them apart.
    [InlineData(Samples.Deployment, true)]
    public async Task Workload_sample_is_accepted_and_its_pods_meet_the_restricted_profile(string fileName, bool violates)
    {
        var plane = fixture.Require();
        var kubectl = new Testing.Kubectl(plane.AdminKubeconfig);
        if (!(await kubectl.RunAsync("get", "namespace", Namespace)).Out.Contains(Namespace, StringComparison.Ordinal))
        {
            await kubectl.SucceedAsync("create", "namespace", Namespace);
            await kubectl.SucceedAsync("label", "namespace", Namespace, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted");
        }

        var result = await kubectl.RunAsync("-n", Namespace, "create", "--dry-run=server", "-f", RepositoryFiles.Sample(fileName));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(violates, result.Error.Contains("would violate PodSecurity \"restricted", StringComparison.Ordinal));
    }
}
