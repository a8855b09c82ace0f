namespace Kwarm.Testing.RealApiServer;

/// <summary>
/// Where the real control plane's binaries are, by controller-runtime's envtest convention: the folder named in
/// <c>KUBEBUILDER_ASSETS</c> holds <c>kube-apiserver</c> (and here also <c>kube-controller-manager</c> and
/// <c>kube-scheduler</c>); <c>etcd</c> is taken from that folder when it is there, else from <c>PATH</c> (Debian's
/// <c>etcd-server</c> package).
/// </summary>
public sealed record ControlPlaneAssets(string ApiServer, string ControllerManager, string Scheduler, string Etcd)
{
    public const string Variable = "KUBEBUILDER_ASSETS";

    /// <summary>The assets, or why the real lane cannot run on this machine (the reason a skipped test reports).</summary>
    public static (ControlPlaneAssets? Assets, string? Missing) Find()
    {
        var folder = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(folder))
        {
            return (null, $"{Variable} is not set: the real API server lane needs kube-apiserver, kube-controller-manager and kube-scheduler "
                + "v1.24 (unpack ../shared/envtest/v1.24.0/*.xz into a folder and set the variable to it, as .ci/run does) and etcd");
        }

        var missing = new List<string>();
        string Binary(string name)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path))
            {
                missing.Add(path);
            }

            return path;
        }

        var apiServer = Binary("kube-apiserver");
        var controllerManager = Binary("kube-controller-manager");
        var scheduler = Binary("kube-scheduler");
        var etcd = File.Exists(Path.Combine(folder, "etcd")) ? Path.Combine(folder, "etcd") : FindOnPath("etcd");
        if (etcd is null)
        {
            missing.Add("etcd (in the assets folder or on PATH; Debian: apt-get install etcd-server)");
        }

        return missing.Count > 0
            ? (null, $"{Variable}={folder} lacks: {string.Join(", ", missing)}")
            : (new ControlPlaneAssets(apiServer, controllerManager, scheduler, etcd!), null);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
