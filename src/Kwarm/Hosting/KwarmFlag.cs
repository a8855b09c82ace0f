using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using Kwarm.Observability;
using Kwarm.Resources;

namespace Kwarm.Hosting;

/// <summary>
/// One setting of <see cref="KwarmOptions"/>: its flag, environment variable and configuration key, the form
/// it accepts (said word for word in every error about it), and how to read and check it.
/// </summary>
internal abstract class KwarmFlag
{
    private protected KwarmFlag(string name, string property, string expected, string description, bool isSwitch)
    {
        Name = name;
        Property = property;
        Expected = expected;
        Description = description;
        IsSwitch = isSwitch;
        EnvironmentVariable = "KWARM_" + name.Replace('-', '_').ToUpperInvariant();
    }

    /// <summary>The flag without its dashes, e.g. <c>max-concurrent-pulls</c>.</summary>
    public string Name { get; }

    /// <summary>The <see cref="KwarmOptions"/> property, which is also the key under the <c>Kwarm</c> configuration section.</summary>
    public string Property { get; }

    public string ConfigurationKey => KwarmOptions.SectionName + ":" + Property;

    public string EnvironmentVariable { get; }

    /// <summary>The accepted form, completing "expected …".</summary>
    public string Expected { get; }

    public string Description { get; }

    /// <summary>A boolean flag, which may stand alone (<c>--leader-elect</c>) to mean true.</summary>
    public bool IsSwitch { get; }

    /// <summary>Reads <paramref name="raw"/> into <paramref name="options"/> when it is well formed and allowed.</summary>
    public abstract bool TryApply(string raw, KwarmOptions options);

    /// <summary>Checks the value already in <paramref name="options"/>, however it got there.</summary>
    public abstract bool IsAllowed(KwarmOptions options, out string shown);

    public abstract string Show(KwarmOptions options);
}

/// <summary>Reads a raw setting; false when it is malformed.</summary>
internal delegate bool SettingParser<T>(string raw, [MaybeNullWhen(false)] out T value);

internal sealed class KwarmFlag<T> : KwarmFlag
{
    private readonly SettingParser<T> _parse;
    private readonly Func<T, bool> _isAllowed;
    private readonly Func<KwarmOptions, T> _get;
    private readonly Action<KwarmOptions, T> _set;
    private readonly Func<T, string> _show;

    public KwarmFlag(
        string name,
        string property,
        string expected,
        string description,
        SettingParser<T> parse,
        Func<T, bool> isAllowed,
        Func<KwarmOptions, T> get,
        Action<KwarmOptions, T> set,
        Func<T, string>? show = null)
        : base(name, property, expected, description, isSwitch: typeof(T) == typeof(bool))
    {
        _parse = parse;
        _isAllowed = isAllowed;
        _get = get;
        _set = set;
        _show = show ?? (value => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
    }

    public override bool TryApply(string raw, KwarmOptions options)
    {
        if (!_parse(raw, out var value) || !_isAllowed(value))
        {
            return false;
        }

        _set(options, value);
        return true;
    }

    public override bool IsAllowed(KwarmOptions options, out string shown)
    {
        var value = _get(options);
        shown = _show(value);
        return _isAllowed(value);
    }

    public override string Show(KwarmOptions options) => _show(_get(options));
}

/// <summary>Every flag of DESIGN §6, in the order <c>--help</c> lists them.</summary>
internal static partial class KwarmFlags
{
    public const int MaxConcurrentPullsLimit = 1000;
    public const int MaxPullsPerNodeLimit = 10;

    private const string BindAddressForm = "an address of the form [host]:port, such as :8080 or 127.0.0.1:8080";

    public static IReadOnlyList<KwarmFlag> All { get; } =
    [
        Integer("max-concurrent-pulls", nameof(KwarmOptions.MaxConcurrentPulls), 1, MaxConcurrentPullsLimit,
            "Pull Jobs running at once across the cluster.", o => o.MaxConcurrentPulls, (o, v) => o.MaxConcurrentPulls = v),
        Integer("max-pulls-per-node", nameof(KwarmOptions.MaxPullsPerNode), 1, MaxPullsPerNodeLimit,
            "Pull Jobs running at once on one node.", o => o.MaxPullsPerNode, (o, v) => o.MaxPullsPerNode = v),
        Address("metrics-bind-address", nameof(KwarmOptions.MetricsBindAddress),
            "Where /metrics is served.", o => o.MetricsBindAddress, (o, v) => o.MetricsBindAddress = v),
        Address("health-probe-bind-address", nameof(KwarmOptions.HealthProbeBindAddress),
            "Where /healthz and /readyz are served.", o => o.HealthProbeBindAddress, (o, v) => o.HealthProbeBindAddress = v),
        Address("webhook-bind-address", nameof(KwarmOptions.WebhookBindAddress),
            "Where the admission webhook is served over TLS.", o => o.WebhookBindAddress, (o, v) => o.WebhookBindAddress = v),
        Text("webhook-cert-dir", nameof(KwarmOptions.WebhookCertDir), "a non-empty directory path", IsPath,
            "Directory holding the webhook's tls.crt and tls.key; reloaded when they change.", o => o.WebhookCertDir, (o, v) => o.WebhookCertDir = v),
        new KwarmFlag<bool>("leader-elect", nameof(KwarmOptions.LeaderElect), "true or false",
            "Run the controllers only on the replica holding the leader Lease.", bool.TryParse, _ => true,
            o => o.LeaderElect, (o, v) => o.LeaderElect = v, v => v ? "true" : "false"),
        Text("namespace", nameof(KwarmOptions.Namespace), "a namespace name (lower-case letters, digits and '-', at most 63 characters)", IsDnsLabel,
            "Kwarm's own namespace, where the leader-election Lease lives.", o => o.Namespace, (o, v) => o.Namespace = v),
        Text("service-account-name", nameof(KwarmOptions.ServiceAccountName), "a service account name (lower-case letters, digits, '-' and '.', at most 253 characters)", IsDnsSubdomain,
            "Kwarm's own service account, whose requests the webhook lets through unchanged.", o => o.ServiceAccountName, (o, v) => o.ServiceAccountName = v),
        Text("tools-image", nameof(KwarmOptions.ToolsImage), "an image reference such as ghcr.io/kwarm-io/kwarm:v1.0.0", IsImageReference,
            "Image carrying the static noop helper that pull pods copy in.", o => o.ToolsImage, (o, v) => o.ToolsImage = v),
        new KwarmFlag<string?>("kubeconfig", nameof(KwarmOptions.Kubeconfig), "the path of an existing kubeconfig file",
            "Kubeconfig to use; when empty: KUBECONFIG, then the in-cluster config, then ~/.kube/config.",
            EmptyAsUnset,
            path => path is null || File.Exists(path), o => o.Kubeconfig, (o, v) => o.Kubeconfig = v, v => v ?? ""),
        new KwarmFlag<TimeSpan>("finished-prepullimage-ttl", nameof(KwarmOptions.FinishedPrePullImageTtl), "a positive Go duration such as 1h or 90m",
            "Finished PrePullImages owned by a Deployment are deleted after this long.", GoDuration.TryParse,
            ttl => ttl > TimeSpan.Zero, o => o.FinishedPrePullImageTtl, (o, v) => o.FinishedPrePullImageTtl = v, GoDuration.Format),
        new KwarmFlag<KwarmLogFormat>("log-format", nameof(KwarmOptions.LogFormat), "auto, text or json",
            "Log format; auto is JSON inside a cluster and plain text elsewhere.", TryParseLogFormat, _ => true,
            o => o.LogFormat, (o, v) => o.LogFormat = v, v => v.ToString().ToLowerInvariant()),
        new KwarmFlag<bool>("taint-new-nodes", nameof(KwarmOptions.TaintNewNodes), "true or false",
            $"The webhook adds the taint {KwarmApi.WarmingTaintKey}={KwarmApi.WarmingTaintValue}:{KwarmApi.WarmingTaintEffect} to each Node when it is created (its webhook configuration must send Node CREATEs).",
            bool.TryParse, _ => true, o => o.TaintNewNodes, (o, v) => o.TaintNewNodes = v, v => v ? "true" : "false"),
    ];

    public static KwarmFlag? Find(string name) =>
        All.FirstOrDefault(flag => string.Equals(flag.Name, name, StringComparison.Ordinal));

    public static KwarmFlag? FindByProperty(string property) =>
        All.FirstOrDefault(flag => string.Equals(flag.Property, property, StringComparison.OrdinalIgnoreCase));

    private static KwarmFlag<int> Integer(string name, string property, int min, int max, string description,
        Func<KwarmOptions, int> get, Action<KwarmOptions, int> set) =>
        new(name, property, $"an integer from {min} to {max}", description,
            (string raw, out int value) => int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value),
            value => value >= min && value <= max, get, set);

    private static KwarmFlag<string> Address(string name, string property, string description,
        Func<KwarmOptions, string> get, Action<KwarmOptions, string> set) =>
        Text(name, property, BindAddressForm, raw => BindAddress.TryParse(raw, out _), description, get, set);

    private static KwarmFlag<string> Text(string name, string property, string expected, Func<string, bool> isAllowed,
        string description, Func<KwarmOptions, string> get, Action<KwarmOptions, string> set) =>
        new(name, property, expected, description,
            TakeAsIs, value => value is not null && isAllowed(value), get, set);

    private static bool TakeAsIs(string raw, [MaybeNullWhen(false)] out string value)
    {
        value = raw;
        return true;
    }

    private static bool EmptyAsUnset(string raw, out string? value)
    {
        value = raw.Length == 0 ? null : raw;
        return true;
    }

    private static bool IsPath(string value) => !string.IsNullOrWhiteSpace(value);

    private static bool IsDnsLabel(string value) => value.Length <= 63 && DnsLabel().IsMatch(value);

    private static bool IsDnsSubdomain(string value) => value.Length <= 253 && DnsSubdomain().IsMatch(value);

    private static bool IsImageReference(string value) => value.Length <= 4096 && ImageReference().IsMatch(value);

    private static bool TryParseLogFormat(string raw, out KwarmLogFormat format) =>
        Enum.TryParse(raw, ignoreCase: true, out format) && Enum.IsDefined(format) && !int.TryParse(raw, CultureInfo.InvariantCulture, out _);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsSubdomain();

    // The distribution reference grammar, loosened only where registries disagree (upper-case host names).
    [GeneratedRegex(@"^([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$", RegexOptions.CultureInvariant)]
    private static partial Regex ImageReference();
}
