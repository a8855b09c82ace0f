using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Tests.Kubernetes;
using Kwarm.Tests.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Tests.Runtime;

/// <summary>The informer against a scripted API server replaying the recorded answers of a real one.</summary>
public sealed class ResourceInformerTests : IAsyncLifetime
{
    private static readonly ResourceInformerOptions FastOptions = new()
    {
        PageSize = 1,
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(100),
        WatchSilenceLimit = TimeSpan.FromSeconds(30),
    };

    private readonly ScriptedApiServer _server = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<ResourceEvent<V1Deployment>> _events = Channel.CreateUnbounded<ResourceEvent<V1Deployment>>();
    private k8s.Kubernetes? _client;
    private Task? _run;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _client?.Dispose();
        await _server.DisposeAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task Pages_through_the_list_then_watches_from_its_resource_version_with_bookmarks()
    {
        var web = ApiFixtures.ListedDeployment();
        var api = ApiFixtures.Renamed(web, "api", "490");
        var firstPage = ApiFixtures.Json("list-deployments-limit1.json");
        firstPage["metadata"]!["continue"] = "page-2";
        _server.ScriptList(new ScriptedResponse.Json(200, firstPage.ToJsonString()));
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.DeploymentList("495", null, api)));

        var informer = Start(FastOptions with { LabelSelector = "kwarm.io/enabled=true" });
        await informer.WaitForSyncAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var first = await _server.NextRequestAsync();
        var second = await _server.NextRequestAsync();
        var watch = await _server.NextWatchAsync();
        Assert.Equal("/apis/apps/v1/deployments", first.Path);
        Assert.Equal("1", first["limit"]);
        Assert.Null(first["continue"]);
        Assert.Equal("kwarm.io/enabled=true", first["labelSelector"]);
        Assert.Equal("page-2", second["continue"]);
        Assert.Equal("495", watch["resourceVersion"]);
        Assert.Equal("true", watch["allowWatchBookmarks"]);
        Assert.Equal("kwarm.io/enabled=true", watch["labelSelector"]);

        Assert.True(informer.HasSynced);
        Assert.Equal(["shop/api", "shop/web"], informer.Cache.Keys().Order(StringComparer.Ordinal));
        var added = await ReadEventsAsync(2);
        Assert.All(added, e => Assert.Equal(ResourceEventType.Added, e.Type));
    }

    [Fact]
    public async Task Resumes_from_the_last_resource_version_after_the_connection_drops_mid_event()
    {
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
        // The recording ends in the middle of its fifth event: served as it is, then the connection is dropped.
        _server.ScriptWatch(new ScriptedResponse.Stream(ApiFixtures.Bytes("watch-deployments-stream.jsonl"), StreamEnd.Drop));

        var informer = Start(FastOptions);

        var events = await ReadEventsAsync(5);
        Assert.Equal(ResourceEventType.Added, events[0].Type);
        Assert.Equal(["496", "499", "511", "515"], events.Skip(1).Select(e => e.Resource.Metadata.ResourceVersion));
        Assert.All(events.Skip(1), e => Assert.Equal(ResourceEventType.Updated, e.Type));
        Assert.Equal("494", events[1].Previous!.Metadata.ResourceVersion);

        var firstWatch = await _server.NextWatchAsync();
        var resumed = await _server.NextWatchAsync();
        Assert.Equal("495", firstWatch["resourceVersion"]);
        Assert.Equal("515", resumed["resourceVersion"]);

        var cached = informer.Cache.Get("shop", "web")!;
        Assert.Equal("515", cached.Metadata.ResourceVersion);
        Assert.Equal("registry.local/shop/web:1.2", cached.Spec.Template.Spec.Containers.Single().Image);
        Assert.Null(cached.Metadata.ManagedFields);
        Assert.Equal(1, _server.Requests.Count(r => !r.IsWatch));
    }

    [Fact]
    public async Task A_bookmark_moves_the_resource_version_without_telling_subscribers()
    {
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
        // The recordings hold no bookmark; this one has the shape the API server sends (only metadata.resourceVersion is meaningful).
        const string bookmark = """{"type":"BOOKMARK","object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"resourceVersion":"640","creationTimestamp":null},"spec":{"selector":null,"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":null}},"strategy":{}},"status":{}}}""";
        _server.ScriptWatch(ScriptedResponse.Stream.Lines(StreamEnd.Close, bookmark));

        var informer = Start(FastOptions);

        await ReadEventsAsync(1);
        await _server.NextWatchAsync();
        var next = await _server.NextWatchAsync();
        Assert.Equal("640", next["resourceVersion"]);
        Assert.False(_events.Reader.TryRead(out var unexpected), $"bookmark surfaced as {unexpected?.Type}");
        Assert.Equal("494", informer.Cache.Get("shop/web")!.Metadata.ResourceVersion);
        Assert.Equal(1, informer.Cache.Count);
    }

    [Fact]
    public async Task An_expired_watch_relists_and_reports_what_vanished_appeared_and_changed()
    {
        var web = ApiFixtures.ListedDeployment();
        var old = ApiFixtures.Renamed(web, "old", "300");
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.DeploymentList("495", null, web, old)));
        _server.ScriptWatch(new ScriptedResponse.Stream(ApiFixtures.Bytes("watch-expired-410.jsonl"), StreamEnd.Close));

        var webNow = ApiFixtures.CompleteStreamEvents()[^1]["object"]!.AsObject();
        var newcomer = ApiFixtures.Renamed(web, "api", "700");
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.DeploymentList("720", null, webNow, newcomer)));

        var informer = Start(FastOptions with { PageSize = 500 });

        var initial = await ReadEventsAsync(2);
        Assert.All(initial, e => Assert.Equal(ResourceEventType.Added, e.Type));

        var afterRelist = await ReadEventsAsync(3);
        Assert.Equal(ResourceEventType.Deleted, afterRelist[0].Type);
        Assert.Equal("old", afterRelist[0].Resource.Metadata.Name);
        Assert.Equal(ResourceEventType.Added, afterRelist[1].Type);
        Assert.Equal("api", afterRelist[1].Resource.Metadata.Name);
        Assert.Equal(ResourceEventType.Updated, afterRelist[2].Type);
        Assert.Equal("515", afterRelist[2].Resource.Metadata.ResourceVersion);
        Assert.Equal("494", afterRelist[2].Previous!.Metadata.ResourceVersion);

        var watches = new[] { await _server.NextWatchAsync(), await _server.NextWatchAsync() };
        Assert.Equal("495", watches[0]["resourceVersion"]);
        Assert.Equal("720", watches[1]["resourceVersion"]);
        Assert.Equal(["shop/api", "shop/web"], informer.Cache.Keys().Order(StringComparer.Ordinal));
        Assert.Equal(2, _server.Requests.Count(r => !r.IsWatch));
    }

    [Fact]
    public async Task A_relist_unchanged_since_the_last_one_reports_nothing()
    {
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
        _server.ScriptWatch(new ScriptedResponse.Stream(ApiFixtures.Bytes("watch-expired-410.jsonl"), StreamEnd.Close));
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));

        var informer = Start(FastOptions);

        await ReadEventsAsync(1);
        await _server.NextWatchAsync();
        await _server.NextWatchAsync();
        Assert.Equal(2, _server.Requests.Count(r => !r.IsWatch));
        Assert.False(_events.Reader.TryRead(out var unexpected), $"unchanged object reported as {unexpected?.Type}");
        Assert.Equal(1, informer.Cache.Count);
    }

    [Fact]
    public async Task A_list_answered_with_410_Expired_starts_over_from_the_first_page()
    {
        var web = ApiFixtures.ListedDeployment();
        var firstPage = ApiFixtures.Json("list-deployments-limit1.json");
        firstPage["metadata"]!["continue"] = "page-2";
        _server.ScriptList(new ScriptedResponse.Json(200, firstPage.ToJsonString()));
        _server.ScriptList(new ScriptedResponse.Json(410, ApiFixtures.Text("list-expired-410.json")));
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.DeploymentList("530", "page-2b", web)));
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.DeploymentList("530", null, ApiFixtures.Renamed(web, "api", "529"))));

        var informer = Start(FastOptions);
        await informer.WaitForSyncAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var lists = new List<RecordedRequest>();
        RecordedRequest watch;
        while (true)
        {
            var request = await _server.NextRequestAsync();
            if (request.IsWatch)
            {
                watch = request;
                break;
            }

            lists.Add(request);
        }

        Assert.Equal([null, "page-2", null, "page-2b"], lists.Select(r => r["continue"]));
        Assert.Equal("530", watch["resourceVersion"]);
        var events = await ReadEventsAsync(2);
        Assert.All(events, e => Assert.Equal(ResourceEventType.Added, e.Type));
        Assert.Equal(["shop/api", "shop/web"], informer.Cache.Keys().Order(StringComparer.Ordinal));
    }

    /// <summary>An API server restarting answers 503 for a moment: the log says so on one line, with the wait, and no stack trace.</summary>
    [Fact]
    public async Task A_list_answered_503_is_logged_on_one_line_and_retried()
    {
        const string unavailable = """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server is currently unable to handle the request","reason":"ServiceUnavailable","code":503}""";
        _server.ScriptList(new ScriptedResponse.Json(503, unavailable));
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.DeploymentList("530", null, ApiFixtures.ListedDeployment())));
        var log = new PrintedLog(new KwarmTextConsoleFormatter(TimeProvider.System));

        var informer = Start(FastOptions, logger: log.CreateLogger<ResourceInformer<V1Deployment>>());
        await informer.WaitForSyncAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Matches(
            @"^\S+Z warn: Kwarm\.Runtime\.ResourceInformer\[1005\] LIST of deployments failed: HTTP 503 ServiceUnavailable: the server is currently unable to handle the request; retrying in 0\.\d+s\r?\n$",
            Assert.Single(log.WithEvent(1005)));
        Assert.Equal(1, informer.Cache.Count);
    }

    [Fact]
    public async Task A_silent_watch_is_restarted_from_the_same_resource_version()
    {
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
        // No watch is scripted: every watch stays open and says nothing.

        Start(FastOptions with { WatchSilenceLimit = TimeSpan.FromMilliseconds(300), Namespace = "shop" });

        var first = await _server.NextWatchAsync();
        var second = await _server.NextWatchAsync();
        Assert.Equal("/apis/apps/v1/namespaces/shop/deployments", first.Path);
        Assert.Equal("495", first["resourceVersion"]);
        Assert.Equal("495", second["resourceVersion"]);
        Assert.Equal(1, _server.Requests.Count(r => !r.IsWatch));
    }

    [Fact]
    public async Task An_error_event_other_than_expired_backs_off_and_resumes_without_relisting()
    {
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
        var first = ApiFixtures.CompleteStreamEvents()[0].ToJsonString();
        const string internalError = """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcd is unhappy","reason":"InternalError","code":500}}""";
        _server.ScriptWatch(ScriptedResponse.Stream.Lines(StreamEnd.Hang, first, internalError));

        var informer = Start(FastOptions);

        await _server.NextWatchAsync();
        var resumed = await _server.NextWatchAsync();
        Assert.Equal("496", resumed["resourceVersion"]);
        Assert.Equal(1, _server.Requests.Count(r => !r.IsWatch));
        Assert.Equal("496", informer.Cache.Get("shop/web")!.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task A_late_subscriber_is_replayed_the_cache_and_then_sees_live_events()
    {
        _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
        var informer = Start(FastOptions);
        await informer.WaitForSyncAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        var late = new List<ResourceEvent<V1Deployment>>();
        using (informer.Subscribe(late.Add))
        {
            Assert.Equal(ResourceEventType.Added, Assert.Single(late).Type);
        }

        Assert.Equal("web", late[0].Resource.Metadata.Name);
    }

    [Fact]
    public async Task A_server_that_expires_every_watch_at_once_is_relisted_with_growing_delays()
    {
        var time = new TimerRecordingTimeProvider();
        for (var i = 0; i < 3; i++)
        {
            _server.ScriptList(new ScriptedResponse.Json(200, ApiFixtures.Text("list-deployments-limit1.json")));
            _server.ScriptWatch(new ScriptedResponse.Stream(ApiFixtures.Bytes("watch-expired-410.jsonl"), StreamEnd.Close));
        }

        var silence = TimeSpan.FromMinutes(17);
        Start(FastOptions with { InitialBackoff = TimeSpan.FromSeconds(10), MaxBackoff = TimeSpan.FromMinutes(1), WatchSilenceLimit = silence }, time);

        var first = await time.NextDelayOtherThanAsync(silence);
        Assert.InRange(first, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        Assert.Equal(1, Lists());

        time.Advance(first);
        var second = await time.NextDelayOtherThanAsync(silence);
        Assert.InRange(second, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
        Assert.Equal(2, Lists());

        // Fake timers fire inside Advance: right after it, the backoff timer has either fired or it has not.
        Assert.Equal(1, time.FiredOtherThan(silence));
        time.Advance(second - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, time.FiredOtherThan(silence));
        Assert.Equal(2, Lists());

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, time.FiredOtherThan(silence));
        var third = await time.NextDelayOtherThanAsync(silence);
        Assert.InRange(third, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40));
        Assert.Equal(3, Lists());

        int Lists() => _server.Requests.Count(request => !request.IsWatch);
    }

    private ResourceInformer<V1Deployment> Start(ResourceInformerOptions options, TimeProvider? timeProvider = null, ILogger<ResourceInformer<V1Deployment>>? logger = null)
    {
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _server.BaseUri.ToString() });
        var source = new KubernetesListWatcher<V1Deployment>(_client, ResourceKinds.Deployments, KwarmJson.Options, options.Namespace);
        var informer = new ResourceInformer<V1Deployment>(
            source, options, ResourceTrimmers.Deployment, timeProvider ?? TimeProvider.System, logger ?? NullLogger<ResourceInformer<V1Deployment>>.Instance);
        informer.Subscribe(e => _events.Writer.TryWrite(e));
        _run = Task.Run(() => informer.RunAsync(_stop.Token), TestContext.Current.CancellationToken);
        return informer;
    }

    private async Task<List<ResourceEvent<V1Deployment>>> ReadEventsAsync(int count)
    {
        var events = new List<ResourceEvent<V1Deployment>>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (events.Count < count)
        {
            events.Add(await _events.Reader.ReadAsync(timeout.Token));
        }

        return events;
    }

    /// <summary>
    /// A fake clock that reports the due time of every timer created on it (Task.Delay creates one) and records which
    /// have fired.
    /// </summary>
    private sealed class TimerRecordingTimeProvider : Microsoft.Extensions.Time.Testing.FakeTimeProvider
    {
        private readonly Channel<TimeSpan> _dueTimes = Channel.CreateUnbounded<TimeSpan>();
        private readonly System.Collections.Concurrent.ConcurrentQueue<TimeSpan> _fired = new();

        /// <summary>How many timers have fired whose due time is not a watch's silence limit.</summary>
        public int FiredOtherThan(TimeSpan silenceLimit) => _fired.Count(dueTime => dueTime != silenceLimit);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            // Registered first, reported second: the test must never advance the clock before the timer exists.
            var timer = base.CreateTimer(
                firing =>
                {
                    _fired.Enqueue(dueTime);
                    callback(firing);
                },
                state,
                dueTime,
                period);
            _dueTimes.Writer.TryWrite(dueTime);
            return timer;
        }

        /// <summary>The due time of the next timer that is not a watch's silence timer.</summary>
        public async Task<TimeSpan> NextDelayOtherThanAsync(TimeSpan silenceLimit)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                var dueTime = await _dueTimes.Reader.ReadAsync(timeout.Token);
                if (dueTime != silenceLimit)
                {
                    return dueTime;
                }
            }
        }
    }
}
