using Kwarm.Testing.RealApiServer;

namespace Kwarm.Simulator.Tests;

/// <summary>
/// This assembly's tests against the real control plane run one at a time, on one shared control plane (a collection
/// definition must live in the assembly whose tests use it; <c>tests/Kwarm.Tests</c> has its own).
/// </summary>
[CollectionDefinition(Name)]
[Trait("Lane", "RealApiServer")]
public sealed class OneRealControlPlane : ICollectionFixture<RealControlPlaneFixture>
{
    public const string Name = "Real control plane";
}
