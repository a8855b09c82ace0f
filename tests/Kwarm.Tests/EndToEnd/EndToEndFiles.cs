namespace Kwarm.Tests.EndToEnd;

/// <summary>Manifests written inline in a test, applied with kubectl as a person would.</summary>
internal static class EndToEndFiles
{
    public static async Task ApplyAsync(Kubectl kubectl, string yaml)
    {
        var file = Path.Combine(Path.GetTempPath(), $"kwarm-e2e-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml, TestContext.Current.CancellationToken);
        try
        {
            await kubectl.SucceedAsync("apply", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
