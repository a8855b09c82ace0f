using Kwarm.Tests.EndToEnd;

namespace Kwarm.Tests.Scenarios;

/// <summary>The hold scenarios on the cluster simulator, with its audit of every request.</summary>
[Collection(OneSimulatedClusterAtATime.Name)]
public sealed class HoldScenariosOnSimulator : HoldScenarios
{
    protected override async Task<IClusterBackend> StartBackendAsync(int nodes, double timeFactor) =>
        await SimulatorBackend.StartAsync(nodes, timeFactor);
}
