using Kwarm.Testing.RealApiServer;

namespace Kwarm.Tests.RealApiServer;

/// <summary>Tests against the real control plane run one at a time, on one shared control plane.</summary>
[CollectionDefinition(Name)]
[Trait("Lane", "RealApiServer")]
public sealed class OneRealControlPlane : ICollectionFixture<RealControlPlaneFixture>
{
    public const string Name = "Real control plane";
}
