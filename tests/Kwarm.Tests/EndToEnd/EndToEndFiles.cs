namespace Kwarm.Tests.EndToEnd;

/// <summary>Manifests written inline in a test, applied with kubectl as a person would.</summary>
internal static class EndToEndFiles
{
    /// <summary>Holds every Deployment labelled <c>kwarm.io/enabled: "true"</c>, with the defaults.</summary>
    public const string Policy = """
        apiVersion: kwarm.io/v1alpha1
        kind: PrePullPolicy
        metadata: {name: web-tier}
        spec:
          selector:
            matchLabels: {kwarm.io/enabled: "true"}
        """;

    /// <summary>Deployment <c>shop/web</c>, 2 replicas, opted in, running <paramref name="image"/> in container <c>web</c>.</summary>
    public static string Deployment(string image) => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
          labels: {app: web, kwarm.io/enabled: "true"}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: {{{image}}}
        """;

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
