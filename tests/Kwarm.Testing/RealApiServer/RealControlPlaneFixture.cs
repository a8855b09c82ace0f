namespace Kwarm.Testing.RealApiServer;

/// <summary>
/// One real control plane shared by the tests of the <see cref="OneRealControlPlane"/> (it takes several seconds
/// and 300 MB to start). Where the assets are missing, it holds the reason, and each test reports itself skipped with it.
/// </summary>
public sealed class RealControlPlaneFixture : IAsyncLifetime
{
    private ControlPlane? _plane;

    public ControlPlane Plane => _plane ?? throw new InvalidOperationException("the control plane did not start: " + Missing);

    public string? Missing { get; private set; }

    public async ValueTask InitializeAsync()
    {
        var (assets, missing) = ControlPlaneAssets.Find();
        Missing = missing;
        if (assets is not null)
        {
            _plane = await ControlPlane.StartAsync(assets, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Reports the calling test skipped, with the reason, when there is no control plane here.</summary>
    public ControlPlane Require()
    {
        Assert.SkipWhen(Missing is not null, Missing ?? "");
        return Plane;
    }

    public async ValueTask DisposeAsync()
    {
        if (_plane is not null)
        {
            await _plane.DisposeAsync();
        }
    }
}
