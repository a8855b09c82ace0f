using Kwarm.Hosting;
using Kwarm.Kubernetes;

namespace Kwarm.Tests.Kubernetes;

public sealed class KubernetesClientFactoryTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("kwarm-home-");

    public void Dispose() => _home.Delete(recursive: true);

    [Fact]
    public void The_kubeconfig_flag_comes_first()
    {
        var flagged = WriteKubeconfig("flag.yaml", "https://flag.example:6443");
        WriteKubeconfig("env.yaml", "https://env.example:6443");
        var factory = Factory(flagged, new ClientConfigurationSources(Path.Combine(_home.FullName, "env.yaml"), _home.FullName, InCluster: true));

        var configuration = factory.BuildConfiguration();

        Assert.Equal("https://flag.example:6443", configuration.Host.TrimEnd('/'));
        Assert.Contains("--kubeconfig", factory.ChosenSource, StringComparison.Ordinal);
    }

    [Fact]
    public void KUBECONFIG_comes_before_the_cluster_and_the_home_directory()
    {
        var env = WriteKubeconfig("env.yaml", "https://env.example:6443");
        Directory.CreateDirectory(Path.Combine(_home.FullName, ".kube"));
        WriteKubeconfig(Path.Combine(".kube", "config"), "https://home.example:6443");
        var missing = Path.Combine(_home.FullName, "missing.yaml");
        var factory = Factory(null, new ClientConfigurationSources($"{missing}{Path.PathSeparator}{env}", _home.FullName, InCluster: false));

        Assert.Equal("https://env.example:6443", factory.BuildConfiguration().Host.TrimEnd('/'));
    }

    [Fact]
    public void The_home_kubeconfig_is_the_last_resort()
    {
        Directory.CreateDirectory(Path.Combine(_home.FullName, ".kube"));
        WriteKubeconfig(Path.Combine(".kube", "config"), "https://home.example:6443");
        var factory = Factory(null, new ClientConfigurationSources(null, _home.FullName, InCluster: false));

        Assert.Equal("https://home.example:6443", factory.BuildConfiguration().Host.TrimEnd('/'));
    }

    [Fact]
    public void With_nothing_to_use_the_error_lists_what_was_tried_and_how_to_give_a_kubeconfig()
    {
        var factory = Factory(null, new ClientConfigurationSources(null, _home.FullName, InCluster: false));

        var error = Assert.Throws<KwarmStartupException>(factory.BuildConfiguration);

        Assert.Contains("--kubeconfig (not set)", error.Message, StringComparison.Ordinal);
        Assert.Contains("KUBECONFIG (not set)", error.Message, StringComparison.Ordinal);
        Assert.Contains("in-cluster service account", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_home.FullName, ".kube", "config") + " (no such file)", error.Message, StringComparison.Ordinal);
        Assert.Contains("--kubeconfig <path>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_leading_tilde_in_the_kubeconfig_flag_means_the_home_directory()
    {
        WriteKubeconfig("mine.yaml", "https://tilde.example:6443");
        var factory = Factory("~/mine.yaml", new ClientConfigurationSources(null, _home.FullName, InCluster: false));

        Assert.Equal("https://tilde.example:6443", factory.BuildConfiguration().Host.TrimEnd('/'));
    }

    [Fact]
    public void A_kubeconfig_flag_naming_a_missing_file_is_an_error_not_a_fallback()
    {
        Directory.CreateDirectory(Path.Combine(_home.FullName, ".kube"));
        WriteKubeconfig(Path.Combine(".kube", "config"), "https://home.example:6443");
        var missing = Path.Combine(_home.FullName, "nope.yaml");
        var factory = Factory(missing, new ClientConfigurationSources(null, _home.FullName, InCluster: false));

        var error = Assert.Throws<KwarmStartupException>(factory.BuildConfiguration);

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_kubeconfig_gets_a_clear_error()
    {
        var broken = Path.Combine(_home.FullName, "broken.yaml");
        File.WriteAllText(broken, "apiVersion: v1\nclusters: [ this is not: valid\n");
        var factory = Factory(broken, new ClientConfigurationSources(null, _home.FullName, InCluster: false));

        var error = Assert.Throws<KwarmStartupException>(factory.BuildConfiguration);

        Assert.Contains(broken, error.Message, StringComparison.Ordinal);
        Assert.Contains("could not be used", error.Message, StringComparison.Ordinal);
    }

    private static KubernetesClientFactory Factory(string? kubeconfig, ClientConfigurationSources sources) =>
        new(new KwarmOptions { Kubeconfig = kubeconfig }, sources);

    private string WriteKubeconfig(string relativePath, string server)
    {
        var path = Path.Combine(_home.FullName, relativePath);
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: {server}
                insecure-skip-tls-verify: true
            users:
            - name: test
              user:
                token: abc
            contexts:
            - name: test
              context:
                cluster: test
                user: test
            current-context: test
            """);
        return path;
    }
}
