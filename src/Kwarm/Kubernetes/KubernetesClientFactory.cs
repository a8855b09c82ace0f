using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using Kwarm.Hosting;
using Microsoft.Extensions.Options;

namespace Kwarm.Kubernetes;

/// <summary>
/// Builds the API client configuration in the documented order (DESIGN §6): <c>--kubeconfig</c>,
/// then <c>KUBECONFIG</c>, then the in-cluster service account, then <c>~/.kube/config</c>.
/// A source that is named explicitly but unusable is an error, never silently skipped, so that an
/// operator pointed at the wrong file does not quietly talk to another cluster.
/// </summary>
public sealed class KubernetesClientFactory
{
    private readonly KwarmOptions _options;
    private readonly ClientConfigurationSources _sources;

    public KubernetesClientFactory(IOptions<KwarmOptions> options)
        : this(options.Value, ClientConfigurationSources.FromProcess())
    {
    }

    public KubernetesClientFactory(KwarmOptions options, ClientConfigurationSources sources)
    {
        _options = options;
        _sources = sources;
    }

    /// <summary>Which source produced the last configuration, for the start-up log line.</summary>
    public string? ChosenSource { get; private set; }

    /// <exception cref="KwarmStartupException">No source is usable; the message says what was tried.</exception>
    public KubernetesClientConfiguration BuildConfiguration()
    {
        var tried = new List<string>();

        if (!string.IsNullOrWhiteSpace(_options.Kubeconfig))
        {
            var path = ExpandHome(_options.Kubeconfig.Trim());
            if (!File.Exists(path))
            {
                throw new KwarmStartupException(
                    $"--kubeconfig names '{path}', which does not exist. Give the path of a readable kubeconfig file " +
                    "(for example --kubeconfig ~/.kube/config), or drop the flag to use KUBECONFIG, the in-cluster service account or ~/.kube/config.");
            }

            return Load([path], $"--kubeconfig {path}");
        }

        tried.Add("--kubeconfig (not set)");

        if (!string.IsNullOrWhiteSpace(_sources.KubeconfigVariable))
        {
            var paths = _sources.KubeconfigVariable
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var existing = paths.Where(File.Exists).ToArray();
            if (existing.Length == 0)
            {
                throw new KwarmStartupException(
                    $"KUBECONFIG is '{_sources.KubeconfigVariable}', but none of its files exists. Point KUBECONFIG at a readable " +
                    "kubeconfig file, pass --kubeconfig <path>, or unset KUBECONFIG to use the in-cluster service account or ~/.kube/config.");
            }

            return Load(existing, $"KUBECONFIG {string.Join(Path.PathSeparator, existing)}");
        }

        tried.Add("KUBECONFIG (not set)");

        if (_sources.InCluster)
        {
            try
            {
                ChosenSource = "in-cluster service account";
                return KubernetesClientConfiguration.InClusterConfig();
            }
            catch (Exception ex) when (ex is KubeConfigException or IOException or UnauthorizedAccessException)
            {
                throw new KwarmStartupException(
                    $"Running in a cluster, but the service-account credentials could not be read: {ex.Message}. " +
                    "Check that the pod mounts its service-account token (automountServiceAccountToken), or pass --kubeconfig <path>.", ex);
            }
        }

        tried.Add("in-cluster service account (KUBERNETES_SERVICE_HOST or the token file is absent)");

        if (_sources.HomeDirectory is { } home)
        {
            var defaultPath = Path.Combine(home, ".kube", "config");
            if (File.Exists(defaultPath))
            {
                return Load([defaultPath], defaultPath);
            }

            tried.Add($"{defaultPath} (no such file)");
        }
        else
        {
            tried.Add("~/.kube/config (no home directory)");
        }

        throw new KwarmStartupException(
            "No Kubernetes API server is configured. Tried, in order: " + string.Join("; ", tried) + ". " +
            "Give a kubeconfig with --kubeconfig <path> (or the KWARM_KUBECONFIG environment variable), set KUBECONFIG, " +
            "or run Kwarm inside a cluster with a service account.");
    }

    /// <summary>Builds the client itself; the same errors as <see cref="BuildConfiguration"/>.</summary>
    public k8s.Kubernetes CreateClient() => new(BuildConfiguration());

    /// <summary>A leading <c>~</c> is the shell's, not the file system's: expand it, since a config file or an env var keeps it literal.</summary>
    private string ExpandHome(string path) =>
        _sources.HomeDirectory is { } home && (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
            ? Path.Combine(home, path.TrimStart('~').TrimStart('/'))
            : path;

    /// <summary>kubectl's merge rule for a KUBECONFIG list: the first file that names a cluster, user or context wins.</summary>
    private static K8SConfiguration Merge(string[] paths)
    {
        var configs = paths.Select(KubeconfigReader.Read).ToList();
        var merged = configs[0];
        merged.Clusters = configs.SelectMany(config => config.Clusters ?? []).DistinctBy(cluster => cluster.Name).ToList();
        merged.Users = configs.SelectMany(config => config.Users ?? []).DistinctBy(user => user.Name).ToList();
        merged.Contexts = configs.SelectMany(config => config.Contexts ?? []).DistinctBy(context => context.Name).ToList();
        merged.CurrentContext = configs.Select(config => config.CurrentContext).FirstOrDefault(name => !string.IsNullOrEmpty(name));
        return merged;
    }

    private KubernetesClientConfiguration Load(string[] paths, string description)
    {
        try
        {
            var configuration = KubernetesClientConfiguration.BuildConfigFromConfigObject(Merge(paths));
            ChosenSource = description;
            return configuration;
        }
        catch (Exception ex) when (ex is KubeConfigException or IOException or UnauthorizedAccessException or
                                       YamlDotNet.Core.YamlException or ArgumentException or InvalidOperationException)
        {
            throw new KwarmStartupException(
                $"The kubeconfig from {description} could not be used: {ex.Message}. " +
                "Check that it is valid YAML with a current-context whose cluster has a server URL.", ex);
        }
    }
}
