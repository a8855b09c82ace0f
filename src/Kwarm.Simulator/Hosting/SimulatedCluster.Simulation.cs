namespace Kwarm.Simulator.Hosting;

public sealed partial class SimulatedCluster
{
    private void StartSimulation()
    {
        _ = Options;
    }

    private Task StopSimulationAsync() => Options is null ? Task.CompletedTask : Task.CompletedTask;
}
