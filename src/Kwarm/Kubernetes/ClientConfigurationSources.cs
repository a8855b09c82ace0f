using k8s;

namespace Kwarm.Kubernetes;

/// <summary>
/// Where the client configuration may come from; read from the process by <see cref="FromProcess"/>,
/// built by hand in tests so that the real home directory and environment are never consulted.
/// </summary>
/// <param name="KubeconfigVariable">Value of <c>KUBECONFIG</c> (a path list), or null.</param>
/// <param name="HomeDirectory">The user's home directory, or null when there is none.</param>
/// <param name="InCluster">True when the service-account token and <c>KUBERNETES_SERVICE_HOST</c> are present.</param>
public sealed record ClientConfigurationSources(string? KubeconfigVariable, string? HomeDirectory, bool InCluster)
{
    public static ClientConfigurationSources FromProcess()
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        if (string.IsNullOrEmpty(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        return new ClientConfigurationSources(
            Environment.GetEnvironmentVariable("KUBECONFIG"),
            string.IsNullOrEmpty(home) ? null : home,
            KubernetesClientConfiguration.IsInCluster());
    }
}
