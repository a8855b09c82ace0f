using Kwarm.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kwarm.Tests.Hosting;

public sealed class KwarmSettingsTests : IDisposable
{
    private readonly List<string> _directories = [];

    private static readonly Dictionary<string, string> NoEnvironment = new(StringComparer.Ordinal);

    public static TheoryData<string[], string> BadFlags => new()
    {
        { ["--max-concurrent-pulls", "abc"], "kwarm: invalid --max-concurrent-pulls \"abc\": expected an integer from 1 to 1000" },
        { ["--max-concurrent-pulls=0"], "kwarm: invalid --max-concurrent-pulls \"0\": expected an integer from 1 to 1000" },
        { ["--max-concurrent-pulls", "1001"], "kwarm: invalid --max-concurrent-pulls \"1001\": expected an integer from 1 to 1000" },
        { ["--max-pulls-per-node", "11"], "kwarm: invalid --max-pulls-per-node \"11\": expected an integer from 1 to 10" },
        { ["--max-pulls-per-node=2.5"], "kwarm: invalid --max-pulls-per-node \"2.5\": expected an integer from 1 to 10" },
        { ["--metrics-bind-address", "8080"], "kwarm: invalid --metrics-bind-address \"8080\": expected an address of the form [host]:port, such as :8080 or 127.0.0.1:8080" },
        { ["--health-probe-bind-address=localhost"], "kwarm: invalid --health-probe-bind-address \"localhost\": expected an address of the form [host]:port, such as :8080 or 127.0.0.1:8080" },
        { ["--webhook-bind-address", "1.2.3:9443"], "kwarm: invalid --webhook-bind-address \"1.2.3:9443\": expected an address of the form [host]:port, such as :8080 or 127.0.0.1:8080" },
        { ["--webhook-bind-address", "::1:9443"], "kwarm: invalid --webhook-bind-address \"::1:9443\": expected an address of the form [host]:port, such as :8080 or 127.0.0.1:8080" },
        { ["--webhook-bind-address", ":70000"], "kwarm: invalid --webhook-bind-address \":70000\": expected an address of the form [host]:port, such as :8080 or 127.0.0.1:8080" },
        { ["--webhook-bind-address", "example.com:9443"], "kwarm: invalid --webhook-bind-address \"example.com:9443\": expected an address of the form [host]:port, such as :8080 or 127.0.0.1:8080" },
        { ["--webhook-cert-dir="], "kwarm: invalid --webhook-cert-dir \"\": expected a non-empty directory path" },
        { ["--leader-elect=maybe"], "kwarm: invalid --leader-elect \"maybe\": expected true or false" },
        { ["--taint-new-nodes=yes"], "kwarm: invalid --taint-new-nodes \"yes\": expected true or false" },
        { ["--namespace", "Kwarm_System"], "kwarm: invalid --namespace \"Kwarm_System\": expected a namespace name (lower-case letters, digits and '-', at most 63 characters)" },
        { ["--namespace", new string('a', 64)], $"kwarm: invalid --namespace \"{new string('a', 64)}\": expected a namespace name (lower-case letters, digits and '-', at most 63 characters)" },
        { ["--service-account-name", "-kwarm"], "kwarm: invalid --service-account-name \"-kwarm\": expected a service account name (lower-case letters, digits, '-' and '.', at most 253 characters)" },
        { ["--tools-image", "ghcr.io/kwarm io/kwarm"], "kwarm: invalid --tools-image \"ghcr.io/kwarm io/kwarm\": expected an image reference such as ghcr.io/kwarm-io/kwarm:v1.0.0" },
        { ["--tools-image", "ghcr.io/Kwarm/kwarm:v1"], "kwarm: invalid --tools-image \"ghcr.io/Kwarm/kwarm:v1\": expected an image reference such as ghcr.io/kwarm-io/kwarm:v1.0.0" },
        { ["--kubeconfig", "/nonexistent/kwarm/kubeconfig"], "kwarm: invalid --kubeconfig \"/nonexistent/kwarm/kubeconfig\": expected the path of an existing kubeconfig file" },
        { ["--finished-prepullimage-ttl", "1 hour"], "kwarm: invalid --finished-prepullimage-ttl \"1 hour\": expected a positive Go duration such as 1h or 90m" },
        { ["--finished-prepullimage-ttl=0s"], "kwarm: invalid --finished-prepullimage-ttl \"0s\": expected a positive Go duration such as 1h or 90m" },
        { ["--finished-prepullimage-ttl=-1h"], "kwarm: invalid --finished-prepullimage-ttl \"-1h\": expected a positive Go duration such as 1h or 90m" },
        { ["--finished-prepullimage-ttl", "1d"], "kwarm: invalid --finished-prepullimage-ttl \"1d\": expected a positive Go duration such as 1h or 90m" },
        { ["--log-format", "xml"], "kwarm: invalid --log-format \"xml\": expected auto, text or json" },
        { ["--max-concurent-pulls", "5"], "kwarm: unknown flag --max-concurent-pulls (see --help for the flags)" },
        { ["-verbose"], "kwarm: unknown flag -verbose (see --help for the flags)" },
        { ["--namespace"], "kwarm: flag --namespace needs a value: expected a namespace name (lower-case letters, digits and '-', at most 63 characters)" },
        { ["run"], "kwarm: unexpected argument \"run\": Kwarm takes flags only (see --help)" },
        { ["--leader-elect", "true"], "kwarm: unexpected argument \"true\": Kwarm takes flags only (see --help)" },
        { ["--metrics-bind-address=:8081"], "kwarm: conflicting --metrics-bind-address \":8081\" and --health-probe-bind-address \":8081\": expected a different port for each listener" },
        // Two bad values still give one line: the first, in --help order.
        { ["--namespace=BAD", "--max-concurrent-pulls=abc"], "kwarm: invalid --max-concurrent-pulls \"abc\": expected an integer from 1 to 1000" },
    };

    [Theory]
    [MemberData(nameof(BadFlags))]
    public void Bad_flag_exits_2_with_one_line_naming_it(string[] args, string expectedLine)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var launch = KwarmHost.Prepare(args, NoEnvironment, stdout, stderr, EmptyContentRoot());

        Assert.Equal(KwarmHost.ExitInvalidSettings, launch.ExitCode);
        Assert.Null(launch.Builder);
        Assert.Equal(expectedLine + Environment.NewLine, stderr.ToString());
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public void Bad_environment_value_names_the_flag_and_the_variable()
    {
        var stderr = new StringWriter();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["KWARM_MAX_PULLS_PER_NODE"] = "many" };

        var launch = KwarmHost.Prepare([], environment, TextWriter.Null, stderr, EmptyContentRoot());

        Assert.Equal(2, launch.ExitCode);
        Assert.Equal("kwarm: invalid --max-pulls-per-node \"many\" from KWARM_MAX_PULLS_PER_NODE: expected an integer from 1 to 10" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public void Bad_configuration_value_names_the_flag_and_the_key()
    {
        var stderr = new StringWriter();
        var contentRoot = ContentRootWith("""{ "Kwarm": { "LeaderElect": "yes" } }""");

        var launch = KwarmHost.Prepare([], NoEnvironment, TextWriter.Null, stderr, contentRoot);

        Assert.Equal(2, launch.ExitCode);
        Assert.Equal("kwarm: invalid --leader-elect \"yes\" from configuration Kwarm:LeaderElect: expected true or false" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public void Malformed_configuration_file_exits_2_with_one_line_naming_it()
    {
        var stderr = new StringWriter();
        var contentRoot = ContentRootWith("""{ "Kwarm": { "MaxConcurrentPulls": """);

        var launch = KwarmHost.Prepare([], NoEnvironment, TextWriter.Null, stderr, contentRoot);

        Assert.Equal(2, launch.ExitCode);
        var line = Assert.Single(stderr.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kwarm: ", line, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(contentRoot, "appsettings.json"), line, StringComparison.Ordinal);
    }

    [Fact]
    public void Misspelt_configuration_key_is_rejected_instead_of_ignored()
    {
        var stderr = new StringWriter();
        var contentRoot = ContentRootWith("""{ "Kwarm": { "MaxConcurentPulls": 5 } }""");

        var launch = KwarmHost.Prepare([], NoEnvironment, TextWriter.Null, stderr, contentRoot);

        Assert.Equal(2, launch.ExitCode);
        Assert.Equal("kwarm: unknown setting Kwarm:MaxConcurentPulls in configuration (see --help for the settings)" + Environment.NewLine, stderr.ToString());
    }

    [Fact]
    public void A_flag_fixes_a_bad_environment_value_because_it_wins()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["KWARM_MAX_CONCURRENT_PULLS"] = "abc" };

        var options = BuildOptions(["--max-concurrent-pulls", "20"], environment, EmptyContentRoot());

        Assert.Equal(20, options.MaxConcurrentPulls);
    }

    [Fact]
    public void Help_lists_every_flag_of_the_design_and_exits_0()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var launch = KwarmHost.Prepare(["--help"], NoEnvironment, stdout, stderr, EmptyContentRoot());

        Assert.Equal(0, launch.ExitCode);
        Assert.Null(launch.Builder);
        Assert.Empty(stderr.ToString());
        string[] designFlags =
        [
            "--max-concurrent-pulls", "--max-pulls-per-node", "--metrics-bind-address", "--health-probe-bind-address",
            "--webhook-bind-address", "--webhook-cert-dir", "--leader-elect", "--namespace", "--tools-image", "--kubeconfig",
            "--service-account-name", "--finished-prepullimage-ttl", "--log-format", "--taint-new-nodes",
        ];
        foreach (var flag in designFlags)
        {
            Assert.Contains($"  {flag}", stdout.ToString(), StringComparison.Ordinal);
        }

        Assert.Contains("KWARM_MAX_CONCURRENT_PULLS", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_hold_without_any_setting()
    {
        var options = BuildOptions([], NoEnvironment, EmptyContentRoot());

        Assert.Equal(10, options.MaxConcurrentPulls);
        Assert.Equal(2, options.MaxPullsPerNode);
        Assert.Equal(":8080", options.MetricsBindAddress);
        Assert.Equal(":8081", options.HealthProbeBindAddress);
        Assert.Equal(":9443", options.WebhookBindAddress);
        Assert.False(options.LeaderElect);
        Assert.Equal(TimeSpan.FromHours(1), options.FinishedPrePullImageTtl);
        Assert.Null(options.Kubeconfig);
        Assert.False(options.TaintNewNodes);
    }

    [Fact]
    public void Flags_win_over_environment_which_wins_over_configuration()
    {
        var contentRoot = ContentRootWith("""
            { "Kwarm": { "MaxConcurrentPulls": 7, "MaxPullsPerNode": 3, "Namespace": "from-config", "ToolsImage": "registry.local/config:1" } }
            """);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["KWARM_MAX_CONCURRENT_PULLS"] = "8",
            ["KWARM_NAMESPACE"] = "from-env",
            ["KWARM_LEADER_ELECT"] = "true",
        };

        var options = BuildOptions(["--max-concurrent-pulls=9", "--finished-prepullimage-ttl", "1h30m"], environment, contentRoot);

        Assert.Equal(9, options.MaxConcurrentPulls);
        Assert.Equal("from-env", options.Namespace);
        Assert.Equal(3, options.MaxPullsPerNode);
        Assert.Equal("registry.local/config:1", options.ToolsImage);
        Assert.True(options.LeaderElect);
        Assert.Equal(TimeSpan.FromMinutes(90), options.FinishedPrePullImageTtl);
    }

    [Fact]
    public void Empty_environment_variable_counts_as_unset()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["KWARM_MAX_CONCURRENT_PULLS"] = "" };

        var options = BuildOptions([], environment, ContentRootWith("""{ "Kwarm": { "MaxConcurrentPulls": 4 } }"""));

        Assert.Equal(4, options.MaxConcurrentPulls);
    }

    public static TheoryData<string[], string, string> AcceptedForms => new()
    {
        { ["--leader-elect"], nameof(KwarmOptions.LeaderElect), "True" },
        { ["--leader-elect", "--leader-elect=false"], nameof(KwarmOptions.LeaderElect), "False" },
        { ["-namespace", "team-a"], nameof(KwarmOptions.Namespace), "team-a" },
        { ["--namespace=one", "--namespace", "two"], nameof(KwarmOptions.Namespace), "two" },
        { ["--webhook-bind-address", "[::1]:9443"], nameof(KwarmOptions.WebhookBindAddress), "[::1]:9443" },
        { ["--metrics-bind-address=localhost:9090"], nameof(KwarmOptions.MetricsBindAddress), "localhost:9090" },
        { ["--health-probe-bind-address", "0.0.0.0:0"], nameof(KwarmOptions.HealthProbeBindAddress), "0.0.0.0:0" },
        { ["--tools-image", "registry.local:5000/kwarm/tools@sha256:" + new string('a', 64)], nameof(KwarmOptions.ToolsImage), "registry.local:5000/kwarm/tools@sha256:" + new string('a', 64) },
        { ["--service-account-name", "kwarm.operator"], nameof(KwarmOptions.ServiceAccountName), "kwarm.operator" },
        { ["--finished-prepullimage-ttl=45s"], nameof(KwarmOptions.FinishedPrePullImageTtl), "00:00:45" },
        { ["--log-format", "JSON"], nameof(KwarmOptions.LogFormat), "Json" },
        { ["--kubeconfig="], nameof(KwarmOptions.Kubeconfig), "" },
        { ["--taint-new-nodes"], nameof(KwarmOptions.TaintNewNodes), "True" },
        { ["--taint-new-nodes=true", "--taint-new-nodes=false"], nameof(KwarmOptions.TaintNewNodes), "False" },
    };

    [Theory]
    [MemberData(nameof(AcceptedForms))]
    public void Accepted_forms_are_bound(string[] args, string property, string expected)
    {
        var options = BuildOptions(args, NoEnvironment, EmptyContentRoot());

        var value = typeof(KwarmOptions).GetProperty(property)!.GetValue(options);
        Assert.Equal(expected, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
    }

    [Fact]
    public void Existing_kubeconfig_file_is_accepted()
    {
        var path = Path.Combine(EmptyContentRoot(), "config");
        File.WriteAllText(path, "apiVersion: v1\nkind: Config\n");

        var options = BuildOptions(["--kubeconfig", path], NoEnvironment, EmptyContentRoot());

        Assert.Equal(path, options.Kubeconfig);
    }

    [Fact]
    public void Start_up_validation_rejects_a_value_a_component_sets_after_the_flags()
    {
        var launch = KwarmHost.Prepare([], NoEnvironment, TextWriter.Null, TextWriter.Null, EmptyContentRoot());
        var builder = Assert.IsType<Microsoft.AspNetCore.Builder.WebApplicationBuilder>(launch.Builder);
        builder.Services.PostConfigure<KwarmOptions>(options => options.MaxPullsPerNode = 0);
        using var services = builder.Services.BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<KwarmOptions>>().Value);

        Assert.Equal("invalid --max-pulls-per-node \"0\": expected an integer from 1 to 10", Assert.Single(failure.Failures));
    }

    private static KwarmOptions BuildOptions(string[] args, IReadOnlyDictionary<string, string> environment, string contentRoot)
    {
        var stderr = new StringWriter();
        var launch = KwarmHost.Prepare(args, environment, TextWriter.Null, stderr, contentRoot);
        Assert.True(launch.Builder is not null, stderr.ToString());
        using var services = launch.Builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<KwarmOptions>>().Value;
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private string EmptyContentRoot()
    {
        var directory = Directory.CreateTempSubdirectory("kwarm-settings-").FullName;
        _directories.Add(directory);
        return directory;
    }

    private string ContentRootWith(string appSettings)
    {
        var directory = EmptyContentRoot();
        File.WriteAllText(Path.Combine(directory, "appsettings.json"), appSettings);
        return directory;
    }
}
