namespace Kwarm.Tests.EndToEnd;

/// <summary>
/// Every test class that runs Kwarm against a simulated cluster belongs here, so they run one at a time. Each one
/// already holds a whole API server, its controllers, kubelets and one or two Kwarm replicas; on the 2-core CI machine,
/// three of them at once starve each other's watches and turn an assertion about Kwarm into one about the scheduler.
/// </summary>
[CollectionDefinition(Name)]
[Trait("Lane", "Simulator")]
public sealed class OneSimulatedClusterAtATime
{
    public const string Name = "Simulated cluster";
}
