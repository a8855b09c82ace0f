using k8s;
using k8s.Autorest;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Tests.Kubernetes;
using Kwarm.Tests.Observability;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Runtime;

/// <summary>The write pipeline around the real client, against a scripted API server answering with the recorded errors.</summary>
public sealed class ApiWritePipelineTests : IAsyncLifetime
{
    private const string TooManyRequests =
        """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429}""";

    private const string Unavailable =
        """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server is currently unable to handle the request","reason":"ServiceUnavailable","code":503}""";

    private readonly ScriptedApiServer _server = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<DateTimeOffset> _attempts = [];
    private k8s.Kubernetes _client = null!;
    private int _requestsInFlight;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _server.BaseUri.ToString() });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_429_is_retried_after_the_servers_Retry_After_then_succeeds()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(429, TooManyRequests, new Dictionary<string, string> { ["Retry-After"] = "7" }));
        _server.ScriptWrite(new ScriptedResponse.Json(200, ApiFixtures.Text("get-deployment.json")));
        var log = new PrintedLog(new KwarmTextConsoleFormatter(_time));
        var pipeline = new ApiWritePipeline(
            new ApiWriteOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(200) }, _time, log.CreateLogger<ApiWritePipeline>());

        var patched = await RunOnFakeClockAsync(pipeline.ExecuteAsync(Patch, Token));

        Assert.Equal("web", patched.Metadata.Name);
        Assert.Equal(2, _attempts.Count);
        // The planned wait is the server's, not the backoff's (at most 200 ms here); the fake clock only proves it was
        // not cut short, since it keeps stepping until the retry's continuation gets a thread.
        Assert.EndsWith("retry 1 in 7s", Assert.Single(log.WithEvent(1030)).TrimEnd(), StringComparison.Ordinal);
        Assert.True(_attempts[1] - _attempts[0] >= TimeSpan.FromSeconds(7), $"retried after {_attempts[1] - _attempts[0]}");
        Assert.All(_server.Requests, request => Assert.Equal("PATCH", request.Method));
    }

    [Fact]
    public async Task Server_errors_are_retried_a_bounded_number_of_times_and_then_surface()
    {
        for (var i = 0; i < 5; i++)
        {
            _server.ScriptWrite(new ScriptedResponse.Json(503, Unavailable));
        }

        var pipeline = NewPipeline(new ApiWriteOptions { MaxRetryAttempts = 2 });

        var failure = await Assert.ThrowsAsync<HttpOperationException>(() => RunOnFakeClockAsync(pipeline.ExecuteAsync(Patch, Token)));

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, failure.Response.StatusCode);
        Assert.Equal(3, _attempts.Count);
        Assert.Equal(3, _server.Requests.Count);
        Assert.True(_attempts[2] - _attempts[1] > TimeSpan.Zero, "retries must wait");
    }

    /// <summary>A retry is routine: one line with the server's answer and the wait, no stack trace.</summary>
    [Fact]
    public async Task A_retried_server_error_is_logged_on_one_line_with_its_status_and_the_wait()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(429, TooManyRequests, new Dictionary<string, string> { ["Retry-After"] = "7" }));
        _server.ScriptWrite(new ScriptedResponse.Json(503, Unavailable));
        _server.ScriptWrite(new ScriptedResponse.Json(200, ApiFixtures.Text("get-deployment.json")));
        var log = new PrintedLog(new KwarmTextConsoleFormatter(_time));
        var pipeline = new ApiWritePipeline(
            new ApiWriteOptions { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(200) }, _time, log.CreateLogger<ApiWritePipeline>());

        await RunOnFakeClockAsync(pipeline.ExecuteAsync(Patch, Token));

        var retries = log.WithEvent(1030);
        Assert.Equal(2, retries.Count);
        Assert.Matches(
            @"^\S+Z warn: Kwarm\.Runtime\.ApiWritePipeline\[1030\] API write failed: HTTP 429 TooManyRequests: Too many requests, please try again later\.; retry 1 in 7s\r?\n$",
            retries[0]);
        Assert.Matches(
            @"^\S+Z warn: Kwarm\.Runtime\.ApiWritePipeline\[1030\] API write failed: HTTP 503 ServiceUnavailable: the server is currently unable to handle the request; retry 2 in 0\.\d+s\r?\n$",
            retries[1]);
    }

    [Fact]
    public async Task A_409_conflict_is_never_retried_and_surfaces_as_a_conflict()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(409, ApiFixtures.Text("put-stale-resourceversion-409.json")));
        _server.ScriptWrite(new ScriptedResponse.Json(200, ApiFixtures.Text("get-deployment.json")));
        var pipeline = NewPipeline(new ApiWriteOptions());
        var stale = KubernetesJson.Deserialize<V1Deployment>(ApiFixtures.Text("get-deployment.json"));

        var conflict = await Assert.ThrowsAsync<ApiConflictException>(() => RunOnFakeClockAsync(pipeline.ExecuteAsync(
            token => OverHttpAsync(() => _client.AppsV1.ReplaceNamespacedDeploymentAsync(stale, "web", "shop", cancellationToken: token)),
            Token)));

        Assert.Equal("Conflict", conflict.Reason);
        Assert.Equal("web", conflict.ObjectName);
        Assert.Contains("the object has been modified", conflict.Message, StringComparison.Ordinal);
        Assert.Single(_attempts);
        Assert.Equal("PUT", Assert.Single(_server.Requests).Method);
    }

    [Fact]
    public async Task A_failed_json_patch_test_is_not_retried()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(422, ApiFixtures.Text("json-patch-test-failed.json")));
        var pipeline = NewPipeline(new ApiWriteOptions());

        var failure = await Assert.ThrowsAsync<HttpOperationException>(() => RunOnFakeClockAsync(pipeline.ExecuteAsync(Patch, Token)));

        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, failure.Response.StatusCode);
        Assert.Single(_attempts);
    }

    [Fact]
    public async Task An_attempt_that_times_out_is_retried()
    {
        _server.ScriptWrite(new ScriptedResponse.Json(200, ApiFixtures.Text("get-deployment.json")));
        var pipeline = NewPipeline(new ApiWriteOptions { AttemptTimeout = TimeSpan.FromSeconds(2) });
        var calls = 0;

        var result = await RunOnFakeClockAsync(pipeline.ExecuteAsync(
            async token =>
            {
                if (++calls == 1)
                {
                    _attempts.Add(_time.GetUtcNow());
                    await Task.Delay(Timeout.Infinite, token);
                }

                return await Patch(token);
            },
            Token));

        Assert.Equal("web", result.Metadata.Name);
        Assert.Equal(2, _attempts.Count);
        Assert.True(_attempts[1] - _attempts[0] >= TimeSpan.FromSeconds(2));
        Assert.Single(_server.Requests);
    }

    private ApiWritePipeline NewPipeline(ApiWriteOptions options) =>
        new(options, _time, NullLogger<ApiWritePipeline>.Instance);

    private Task<V1Deployment> Patch(CancellationToken token)
    {
        var patch = new V1Patch("""[{"op":"replace","path":"/spec/paused","value":true}]""", V1Patch.PatchType.JsonPatch);
        return OverHttpAsync(() => _client.AppsV1.PatchNamespacedDeploymentAsync(patch, "web", "shop", cancellationToken: token));
    }

    /// <summary>Records the attempt's time and keeps the fake clock still while the request is on the wire.</summary>
    private async Task<T> OverHttpAsync<T>(Func<Task<T>> call)
    {
        _attempts.Add(_time.GetUtcNow());
        Interlocked.Increment(ref _requestsInFlight);
        try
        {
            return await call();
        }
        finally
        {
            Interlocked.Decrement(ref _requestsInFlight);
        }
    }

    /// <summary>
    /// Moves the fake clock on in small steps until the operation is over, so that backoff delays and attempt
    /// timeouts elapse; never while a real request is in flight, so a slow machine cannot fake a timeout.
    /// </summary>
    private async Task<T> RunOnFakeClockAsync<T>(Task<T> operation)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!operation.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(2, Token);
            if (Volatile.Read(ref _requestsInFlight) == 0)
            {
                _time.Advance(TimeSpan.FromMilliseconds(50));
            }
        }

        return await operation;
    }
}
