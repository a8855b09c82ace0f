using Kwarm.Observability;

namespace Kwarm.Hosting;

/// <summary>
/// The operator's flags (DESIGN §6). Each is settable as <c>--flag value</c>, as the environment
/// variable <c>KWARM_FLAG_NAME</c>, or in configuration under <c>Kwarm</c> (flags win over the
/// environment, which wins over configuration); validated at start by <see cref="KwarmOptionsValidator"/>.
/// </summary>
public sealed class KwarmOptions
{
    public const string SectionName = "Kwarm";

    public int MaxConcurrentPulls { get; set; } = 10;

    public int MaxPullsPerNode { get; set; } = 2;

    public string MetricsBindAddress { get; set; } = ":8080";

    public string HealthProbeBindAddress { get; set; } = ":8081";

    public string WebhookBindAddress { get; set; } = ":9443";

    /// <summary>Holds <c>tls.crt</c> and <c>tls.key</c>; watched for rotation.</summary>
    public string WebhookCertDir { get; set; } = "/tmp/k8s-webhook-server/serving-certs";

    public bool LeaderElect { get; set; }

    /// <summary>Kwarm's own namespace: the leader-election Lease lives there.</summary>
    public string Namespace { get; set; } = "kwarm-system";

    /// <summary>Kwarm's own service account; its requests pass the webhook unchanged.</summary>
    public string ServiceAccountName { get; set; } = "kwarm";

    /// <summary>Image carrying the static <c>noop</c> helper that pull pods copy in.</summary>
    public string ToolsImage { get; set; } = "ghcr.io/kwarm-io/kwarm:latest";

    /// <summary>Path of a kubeconfig; when empty, <c>KUBECONFIG</c>, then the in-cluster config, then <c>~/.kube/config</c>.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Finished PrePullImages owned by a Deployment are deleted after this long.</summary>
    public TimeSpan FinishedPrePullImageTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary><see cref="KwarmLogFormat.Auto"/> writes JSON inside a cluster and plain text elsewhere.</summary>
    public KwarmLogFormat LogFormat { get; set; } = KwarmLogFormat.Auto;

    /// <summary>
    /// The webhook adds the warming taint (<c>kwarm.io/warming=true:NoSchedule</c>, DESIGN §10) to every Node at CREATE,
    /// for clusters whose provisioner cannot put it on. Off by default; the webhook configuration must also send Node
    /// CREATEs to <c>/mutate/nodes</c>. An existing node is never tainted.
    /// </summary>
    public bool TaintNewNodes { get; set; }
}
