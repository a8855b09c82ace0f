using Kwarm.Testing.RealApiServer;
using Kwarm.Tests.RealApiServer;

namespace Kwarm.Tests.Scenarios;

/// <summary>
/// The hold scenarios on a real control plane of their own (one per scenario, so that no scenario sees another's
/// nodes, webhook or leftovers) with attached simulated nodes, Kwarm under the real RBAC authorizer.
/// </summary>
[Collection(OneRealControlPlane.Name)]
[Trait("Backend", "RealApiServer")]
public sealed class HoldScenariosOnRealApiServer : HoldScenarios
{
    protected override async Task<IClusterBackend> StartBackendAsync(int nodes, double timeFactor)
    {
        var (assets, missing) = ControlPlaneAssets.Find();
        Assert.SkipWhen(assets is null, missing ?? "");
        return await RealApiServerBackend.StartAsync(assets!, nodes, timeFactor);
    }
}
