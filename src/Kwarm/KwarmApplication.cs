using Kwarm.Admission;
using Kwarm.Holds;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Kwarm.Pulling;
using Kwarm.Warmup;
using Microsoft.AspNetCore.Routing;

namespace Kwarm;

/// <summary>
/// The whole operator in one call: the process entry point and the end-to-end tests (which run Kwarm in-process
/// against the cluster simulator) compose exactly the same components, so the tests exercise what ships.
/// </summary>
public static class KwarmApplication
{
    /// <summary>Parses and validates the settings, then serves until <paramref name="cancellationToken"/> or a signal stops it.</summary>
    /// <returns>The process exit code: 0 after a clean stop, 1 when a component could not start or failed, 2 for bad settings.</returns>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string> environment,
        TextWriter stdout,
        TextWriter stderr,
        CancellationToken cancellationToken)
    {
        var launch = KwarmHost.Prepare(args, environment, stdout, stderr);
        if (launch.Builder is not { } builder)
        {
            return launch.ExitCode;
        }

        AddComponents(builder.Services);
        return await builder.RunKwarmAsync(MapWebhook, stderr, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The Kubernetes plumbing (client, informers, leader election), the admission webhook (with the serving certificate
    /// the TLS listener asks for on every handshake) and the controllers, which run as leader-only workers.
    /// </summary>
    public static void AddComponents(IServiceCollection services)
    {
        services.AddKwarmKubernetes();
        services.AddKwarmAdmission();
        services.AddPolicyCatalogFeed();
        services.AddKwarmHolds();
        services.AddKwarmPulling();
        services.AddKwarmWarmup();
    }

    /// <summary>
    /// Whether an API server is named: <c>--kubeconfig</c>, <c>KWARM_KUBECONFIG</c> or <c>KUBECONFIG</c> (even when broken: then
    /// Kwarm itself reports what is wrong with it), the in-cluster service account, or <c>~/.kube/config</c>.
    /// </summary>
    public static bool FindsCluster(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var named = KwarmCommandLine.Parse(args).Values.ContainsKey(nameof(KwarmOptions.Kubeconfig))
            || !string.IsNullOrEmpty(environment.GetValueOrDefault("KWARM_KUBECONFIG"));
        var sources = ClientConfigurationSources.FromProcess();
        return named
            || !string.IsNullOrEmpty(sources.KubeconfigVariable)
            || sources.InCluster
            || (sources.HomeDirectory is { } home && File.Exists(Path.Combine(home, ".kube", "config")));
    }

    /// <summary>Endpoints of the webhook listener (the host serves this group only on the TLS port).</summary>
    public static void MapWebhook(IEndpointRouteBuilder webhook) => webhook.MapKwarmAdmission();
}
