using System.Text.Json.Nodes;
using Kwarm.Hosting;
using Kwarm.Kubernetes;
using Kwarm.Tests.Kubernetes;
using Microsoft.Extensions.DependencyInjection;

namespace Kwarm.Tests.Runtime;

/// <summary>
/// Leader election as registered for the host — the client's LeaseLock in Kwarm's namespace — against a loopback
/// server that keeps one Lease, until another holder takes it over.
/// </summary>
public sealed class LeaseOverHttpTests : IAsyncLifetime
{
    private const string LeasePath = "/apis/coordination.k8s.io/v1/namespaces/kwarm-test/leases/kwarm-leader";

    private readonly Lock _gate = new();
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("kwarm-lease-");
    private readonly ScriptedApiServer _server;
    private JsonObject? _lease;
    private int _resourceVersion;
    private bool _takenOver;

    public LeaseOverHttpTests() => _server = new ScriptedApiServer { Handler = Serve };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task The_leader_holds_a_lease_in_Kwarms_namespace_and_stops_its_work_then_the_run_when_another_replica_takes_it()
    {
        await using var provider = BuildProvider();
        var election = provider.GetRequiredService<LeaderElection>();
        var leading = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopping = new CancellationTokenSource();

        var running = election.RunAsync(
            async leadership =>
            {
                leading.TrySetResult(leadership);
                try
                {
                    await Task.Delay(Timeout.Infinite, leadership);
                }
                finally
                {
                    stopped.TrySetResult();
                }
            },
            stopping.Token);

        var token = await leading.Task.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Equal(election.Identity, HolderIdentity());
        Assert.Contains(_server.Requests, request => request.Method == "POST" && request.Path == LeasePath[..LeasePath.LastIndexOf('/')]);
        Assert.False(token.IsCancellationRequested);

        TakeOver("kwarm-1_bbbbbbbb");

        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.True(token.IsCancellationRequested);
        Assert.False(election.IsLeader);
        Assert.Equal("kwarm-1_bbbbbbbb", HolderIdentity());

        // Leadership lost: the run ends (the process exits) rather than campaigning again.
        await Assert.ThrowsAsync<LeadershipLostException>(() => running.WaitAsync(TimeSpan.FromSeconds(10), Token));
    }

    private ScriptedResponse.Json? Serve(RecordedRequest request)
    {
        lock (_gate)
        {
            switch (request.Method)
            {
                case "GET" when request.Path == LeasePath:
                    if (_takenOver)
                    {
                        // The other holder keeps renewing.
                        _lease!["spec"]!["renewTime"] = Now();
                    }

                    return _lease is null
                        ? new ScriptedResponse.Json(404, """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"leases.coordination.k8s.io \"kwarm-leader\" not found","reason":"NotFound","details":{"name":"kwarm-leader","group":"coordination.k8s.io","kind":"leases"},"code":404}""")
                        : new ScriptedResponse.Json(200, _lease.ToJsonString());
                case "POST" when request.Path == LeasePath[..LeasePath.LastIndexOf('/')]:
                    return Store(request.Body, 201);
                case "PUT" when request.Path == LeasePath:
                    return _takenOver
                        ? new ScriptedResponse.Json(409, ApiFixtures.Text("put-stale-resourceversion-409.json"))
                        : Store(request.Body, 200);
                default:
                    return null;
            }
        }
    }

    private ScriptedResponse.Json Store(string body, int statusCode)
    {
        _lease = JsonNode.Parse(body)!.AsObject();
        _lease["metadata"]!["resourceVersion"] = (++_resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new ScriptedResponse.Json(statusCode, _lease.ToJsonString());
    }

    private void TakeOver(string holder)
    {
        lock (_gate)
        {
            _takenOver = true;
            _lease!["spec"]!["holderIdentity"] = holder;
            _lease["spec"]!["renewTime"] = Now();
        }
    }

    private string? HolderIdentity()
    {
        lock (_gate)
        {
            return _lease?["spec"]?["holderIdentity"]?.GetValue<string>();
        }
    }

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private ServiceProvider BuildProvider()
    {
        var kubeconfig = Path.Combine(_directory.FullName, "config");
        File.WriteAllText(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: loopback
              cluster:
                server: {_server.BaseUri}
            users:
            - name: loopback
              user:
                token: abc
            contexts:
            - name: loopback
              context:
                cluster: loopback
                user: loopback
            current-context: loopback
            """);
        var services = new ServiceCollection();
        services.AddLogging();
        services.Configure<KwarmOptions>(options =>
        {
            options.Kubeconfig = kubeconfig;
            options.LeaderElect = true;
            options.Namespace = "kwarm-test";
        });
        services.AddKwarmKubernetes(plumbing => plumbing.LeaderElection = plumbing.LeaderElection with
        {
            LeaseDuration = TimeSpan.FromSeconds(2),
            RenewDeadline = TimeSpan.FromMilliseconds(500),
            RetryPeriod = TimeSpan.FromMilliseconds(100),
        });
        return services.BuildServiceProvider();
    }
}
