using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Hosting;
using Kwarm.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Admission;

/// <summary>
/// The endpoint over real HTTP on 127.0.0.1: bad input gets a clear 4xx, good input the review answer, and the body
/// budget is waited for, refused with 429 when it stays taken, and returned after every request.
/// </summary>
public sealed class AdmissionHttpTests : IAsyncLifetime
{
    private readonly RecordingLoggerProvider _logs = new();
    private readonly FakeTimeProvider _time = new();
    private readonly string _certificateDirectory = Directory.CreateTempSubdirectory("kwarm-http-").FullName;
    private readonly List<(string Decision, double Seconds)> _measurements = [];
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private MeterListener _meters = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders().AddProvider(_logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.Configure<KwarmOptions>(options => options.WebhookCertDir = _certificateDirectory);
        builder.Services.AddSingleton<TimeProvider>(_time);
        builder.Services.AddKwarmAdmission();
        _app = builder.Build();
        _app.MapKwarmAdmission();
        _app.Services.GetRequiredService<IPolicyCatalog>().Replace([AdmissionFixtures.Policy()]);

        var meterFactory = _app.Services.GetRequiredService<IMeterFactory>();
        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Name == "kwarm_webhook_duration_seconds")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meters.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            lock (_measurements)
            {
                _measurements.Add(((string)tags[0].Value!, value));
            }
        });
        _meters.Start();
        _ = _app.Services.GetRequiredService<KwarmMetrics>();

        await _app.StartAsync(TestContext.Current.CancellationToken);
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    private AdmissionBodyBudget Budget => _app.Services.GetRequiredService<AdmissionBodyBudget>();

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        _meters.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        Directory.Delete(_certificateDirectory, recursive: true);
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(HttpContent content)
    {
        using var response = await _client.PostAsync("/mutate/deployments", content, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static ByteArrayContent Json(string body) => Json(Encoding.UTF8.GetBytes(body));

    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "", "the request body is empty" },
        { "this is not json", "the request body is not valid JSON" },
        { "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"", "the request body is not valid JSON" },
        { "[1,2,3]", "the request body is an array in JSON, not an admission.k8s.io/v1 AdmissionReview object" },
        { "null", "the request body is null in JSON" },
        { "{\"apiVersion\":1,\"kind\":\"AdmissionReview\"}", "$.apiVersion must be a string, not a number" },
        { "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":\"x\"}", "$.request must be an object, not a string" },
        { "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"1\",\"userInfo\":{\"groups\":[1]}}}", "$.request.userInfo.groups[0] must be a string, not a number" },
        { "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Deployment\",\"request\":{\"uid\":\"1\"}}", "expected apiVersion \"admission.k8s.io/v1\" and kind \"AdmissionReview\"" },
        { "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"1\"}}", "got apiVersion \"admission.k8s.io/v1beta1\"" },
        { "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "has no \"request\"" },
        { "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"operation\":\"UPDATE\"}}", "has no \"uid\"" },
        { "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":42}}", "$.request.uid must be a string, not a number" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Malformed_review_gets_400_with_a_clear_message_logged_once(string body, string expectedMessage)
    {
        var (status, message) = await PostAsync(Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expectedMessage, message, StringComparison.Ordinal);
        var logged = Assert.Single(_logs.WithEvent(4001));
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Contains(expectedMessage, logged.Message, StringComparison.Ordinal);
        Assert.Contains(_measurements, measurement => measurement.Decision == KwarmMetrics.Decisions.Invalid);
        Assert.Equal(0, Budget.BytesInUse);

        // The server is still answering normally afterwards.
        var (after, _) = await PostAsync(Json(AdmissionFixtures.Bytes(AdmissionFixtures.LabelOnly)));
        Assert.Equal(HttpStatusCode.OK, after);
    }

    [Fact]
    public async Task Body_over_3_MiB_with_a_content_length_gets_413()
    {
        var (status, message) = await PostAsync(Json(new byte[(3 * 1024 * 1024) + 1]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("larger than 3145728 bytes", message, StringComparison.Ordinal);
        Assert.Single(_logs.WithEvent(4001));
    }

    [Fact]
    public async Task Chunked_body_over_3_MiB_gets_413()
    {
        // No Content-Length: the cap is enforced while reading.
        var padding = new string(' ', (3 * 1024 * 1024) + 10);
        using var content = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes("{\"kind\":\"AdmissionReview\"" + padding + "}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var (status, message) = await PostAsync(content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("larger than", message, StringComparison.Ordinal);
        Assert.Equal(0, Budget.BytesInUse);
    }

    [Fact]
    public async Task Body_of_exactly_the_limit_is_read_and_judged_on_content()
    {
        var review = AdmissionFixtures.Bytes(AdmissionFixtures.SetImage);
        var body = new byte[3 * 1024 * 1024];
        Array.Fill(body, (byte)' ');
        review.CopyTo(body, 0);

        var (status, answer) = await PostAsync(Json(body));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"patchType\":\"JSONPatch\"", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Set_image_over_http_is_answered_with_the_hold_patch()
    {
        var (status, body) = await PostAsync(Json(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage)));

        Assert.Equal(HttpStatusCode.OK, status);
        // On the wire, as the API server reads it: a base64 string, independently of the records that wrote it.
        using (var raw = JsonDocument.Parse(body))
        {
            var wire = raw.RootElement.GetProperty("response");
            Assert.Equal(JsonValueKind.String, wire.GetProperty("patch").ValueKind);
            Assert.StartsWith("[{\"op\":\"add\",\"path\":\"/spec/paused\",\"value\":true}", Encoding.UTF8.GetString(Convert.FromBase64String(wire.GetProperty("patch").GetString()!)), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.True, wire.GetProperty("allowed").ValueKind);
        }

        var review = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!;
        Assert.Equal("b26a50db-e126-4375-8ab5-9b28d6fcab1b", review.Response!.Uid);
        Assert.True(review.Response.Allowed);
        Assert.Equal("JSONPatch", review.Response.PatchType);
        FixtureDecisionTests.AssertPatchOnlyHolds(AdmissionFixtures.Review(AdmissionFixtures.SetImage).NewObject(), review.Response.Patch!, "4c16d0a08e9d", "default");
        Assert.Single(_logs.WithEvent(4002));
        Assert.Contains(_measurements, measurement => measurement.Decision == KwarmMetrics.Decisions.Hold);
    }

    [Fact]
    public async Task Object_that_is_not_a_deployment_is_allowed_unchanged()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.Request()["kind"]!["kind"] = "ReplicaSet";
        review.NewObject()["kind"] = "ReplicaSet";

        var (status, body) = await PostAsync(Json(review.ToBytes()));

        Assert.Equal(HttpStatusCode.OK, status);
        var response = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!.Response!;
        Assert.True(response.Allowed);
        Assert.Null(response.Patch);
        Assert.Equal("b26a50db-e126-4375-8ab5-9b28d6fcab1b", response.Uid);
    }

    [Fact]
    public async Task Deployment_with_an_odd_shape_is_allowed_not_failed()
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        review.NewObject().Spec()["template"] = "not an object";
        review.NewObject()["metadata"]!["annotations"] = 7;

        var (status, body) = await PostAsync(Json(review.ToBytes()));

        Assert.Equal(HttpStatusCode.OK, status);
        var response = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!.Response!;
        Assert.True(response.Allowed);
        Assert.Null(response.Patch);
    }

    [Fact]
    public async Task Request_beyond_the_budget_waits_then_gets_429_when_the_budget_stays_taken()
    {
        var held = (await Budget.TryRentAsync((int)Budget.CapacityBytes, TimeSpan.Zero, TestContext.Current.CancellationToken))!;

        var posting = PostAsync(Json(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage)));
        await Eventually.WaitUntilAsync(() => Budget.Waiting == 1, "Budget.Waiting == 1");
        _time.Advance(Budget.MaxWait - TimeSpan.FromMilliseconds(1));
        Assert.False(posting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var (status, message) = await posting;

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("the Kwarm webhook is busy", message, StringComparison.Ordinal);
        Assert.Contains("admitted un-held by failurePolicy Ignore", message, StringComparison.Ordinal);
        Assert.Single(_logs.WithEvent(4006));
        Assert.Empty(_logs.WithEvent(4001));
        Assert.Contains(_measurements, measurement => measurement.Decision == KwarmMetrics.Decisions.Overloaded);
        Assert.Equal(0, Budget.Waiting);

        Budget.Return(held);
        Assert.Equal(0, Budget.BytesInUse);
        var (after, _) = await PostAsync(Json(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage)));
        Assert.Equal(HttpStatusCode.OK, after);
    }

    [Fact]
    public async Task Request_waiting_for_the_budget_is_answered_once_the_budget_frees()
    {
        var held = (await Budget.TryRentAsync((int)Budget.CapacityBytes, TimeSpan.Zero, TestContext.Current.CancellationToken))!;

        var posting = PostAsync(Json(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage)));
        await Eventually.WaitUntilAsync(() => Budget.Waiting == 1, "Budget.Waiting == 1");
        Budget.Return(held);
        var (status, body) = await posting;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"patchType\":\"JSONPatch\"", body, StringComparison.Ordinal);
        Assert.Equal(0, Budget.BytesInUse);
    }

    [Fact]
    public async Task Request_that_fits_in_what_is_left_of_the_budget_is_answered_at_once()
    {
        // All but 256 KiB taken: the 18,735-byte review takes 32 KiB.
        var held = (await Budget.TryRentAsync((int)Budget.CapacityBytes - (256 * 1024), TimeSpan.Zero, TestContext.Current.CancellationToken))!;

        var (status, body) = await PostAsync(Json(AdmissionFixtures.Bytes(AdmissionFixtures.SetImage)));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"patchType\":\"JSONPatch\"", body, StringComparison.Ordinal);
        Assert.Equal(held.Length, Budget.BytesInUse);
        Budget.Return(held);
    }

    [Fact]
    public async Task Client_that_goes_away_mid_body_gives_its_share_of_the_budget_back()
    {
        using var socket = await SendPartialRequestAsync(declaredLength: 1_000_000, sentBytes: 100_000);
        await Eventually.WaitUntilAsync(() => Budget.BytesInUse > 0, "Budget.BytesInUse > 0");
        Assert.Equal(AdmissionBodyBudget.BufferSizeFor(1_000_000), Budget.BytesInUse);

        socket.Close(0);

        await Eventually.WaitUntilAsync(() => Budget.BytesInUse == 0, "Budget.BytesInUse == 0");
        Assert.Equal(0, Budget.BytesInUse);
    }

    [Fact]
    public async Task Client_that_goes_away_while_waiting_for_the_budget_leaves_the_queue()
    {
        var held = (await Budget.TryRentAsync((int)Budget.CapacityBytes, TimeSpan.Zero, TestContext.Current.CancellationToken))!;
        using var socket = await SendPartialRequestAsync(declaredLength: 1_000_000, sentBytes: 100_000);
        await Eventually.WaitUntilAsync(() => Budget.Waiting == 1, "Budget.Waiting == 1");

        socket.Close(0);

        await Eventually.WaitUntilAsync(() => Budget.Waiting == 0, "Budget.Waiting == 0");
        Assert.Equal(0, Budget.Waiting);
        Assert.Equal(held.Length, Budget.BytesInUse);
        Budget.Return(held);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Review_of_2_9_MB_is_decided_like_the_recorded_one_and_its_buffer_returned(bool chunked)
    {
        var review = LargeSetImage(targetBytes: 2_900_000);
        var bytes = review.ToBytes();
        Assert.InRange(bytes.Length, 2_850_000, 2_900_000);
        using HttpContent content = chunked ? new StreamContent(new NonSeekableStream(bytes)) : new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var (status, body) = await PostAsync(content);

        Assert.Equal(HttpStatusCode.OK, status);
        var response = JsonSerializer.Deserialize(body, AdmissionJsonContext.Default.AdmissionReview)!.Response!;
        Assert.Equal("b26a50db-e126-4375-8ab5-9b28d6fcab1b", response.Uid);
        FixtureDecisionTests.AssertPatchOnlyHolds(review.NewObject(), response.Patch!, "4c16d0a08e9d", "default");
        Assert.Equal(0, Budget.BytesInUse);
        Assert.True(Budget.BytesPooled > 0, "the large buffer is kept for the next large review");
    }

    /// <summary>
    /// The recorded <c>kubectl set image</c> with both objects grown alike, as a Deployment gets near the API server's
    /// limit: thousands of environment variables, and the object once more in <c>last-applied-configuration</c>.
    /// </summary>
    private static JsonObject LargeSetImage(int targetBytes)
    {
        var empty = SetImageGrownBy(0).ToBytes().Length;
        var perVariable = (SetImageGrownBy(1000).ToBytes().Length - empty) / 1000.0;
        return SetImageGrownBy((int)((targetBytes - empty) / perVariable));
    }

    private static JsonObject SetImageGrownBy(int variables)
    {
        var review = AdmissionFixtures.Review(AdmissionFixtures.SetImage);
        foreach (var deployment in new[] { review.NewObject(), review.OldObject() })
        {
            var environment = new JsonArray();
            for (var index = 0; index < variables; index++)
            {
                environment.Add(new JsonObject
                {
                    ["name"] = string.Create(CultureInfo.InvariantCulture, $"FEATURE_SETTING_{index:D6}"),
                    ["value"] = string.Create(CultureInfo.InvariantCulture, $"value-{index:D7}-enabled"),
                });
            }

            deployment.PodSpec()["containers"]![0]!["env"] = environment;
            deployment.Annotations()["kubectl.kubernetes.io/last-applied-configuration"] = deployment["spec"]!.ToJsonString();
        }

        return review;
    }

    /// <summary>Headers declaring <paramref name="declaredLength"/> bytes and only part of the body, on a raw connection the test then drops.</summary>
    private async Task<Socket> SendPartialRequestAsync(int declaredLength, int sentBytes)
    {
        var address = new Uri(_app.Urls.First());
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, address.Port, TestContext.Current.CancellationToken);
        var head = string.Create(CultureInfo.InvariantCulture,
            $"POST /mutate/deployments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {declaredLength}\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, TestContext.Current.CancellationToken);
        await socket.SendAsync(new byte[sentBytes], SocketFlags.None, TestContext.Current.CancellationToken);
        return socket;
    }

    /// <summary>Hides the length so HttpClient sends the body chunked.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
