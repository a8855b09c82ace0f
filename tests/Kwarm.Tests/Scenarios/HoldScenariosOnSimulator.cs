using Kwarm.Tests.EndToEnd;

namespace Kwarm.Tests.Scenarios;

/// <summary>The hold scenarios on the cluster simulator, with its audit of every request.</summary>
[Collection(OneSimulatedClusterAtATime.Name)]
public sealed class HoldScenariosOnSimulator : HoldScenarios
{
    protected override async Task<IClusterBackend> StartBackendAsync(int nodes, double timeFactor) =>
        await SimulatorBackend.StartAsync(nodes, timeFactor);

    [Fact]
    public Task Nodes_that_join_warming_get_the_image_first_and_the_pods_that_land_there_after_the_lift_pull_nothing() =>
        NodesJoinWarmingAndThePodsThatLandThereAfterTheLiftPullNothingAsync();
}
