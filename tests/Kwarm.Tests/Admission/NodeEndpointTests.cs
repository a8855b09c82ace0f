using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Hosting;
using Kwarm.Observability;
using Kwarm.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Kwarm.Tests.Admission.NodeTaintDecisionTests;

namespace Kwarm.Tests.Admission;

/// <summary>
/// <c>POST /mutate/nodes</c> over real HTTP, as the host maps it: tainted with <c>--taint-new-nodes</c>, unchanged
/// without, a malformed review refused with 400 like on the other paths, every answer counted under <c>kind="Node"</c>.
/// </summary>
public sealed class NodeEndpointTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_the_flag_a_new_node_is_answered_with_the_taint_patch_and_counted_under_Node()
    {
        await using var webhook = await Webhook.StartAsync(taintNewNodes: true);

        var (status, body) = await webhook.PostAsync(AdmissionEndpoint.NodesPath, Review(Node()));

        Assert.Equal(HttpStatusCode.OK, status);
        var response = JsonNode.Parse(body)!["response"]!.AsObject();
        Assert.True((bool)response["allowed"]!);
        var add = Assert.Single(PatchOf(response))!;
        Assert.Equal("/spec/taints", (string?)add["path"]);
        Assert.Equal("""[{"key":"kwarm.io/warming","value":"true","effect":"NoSchedule"}]""", add["value"]!.ToJsonString());
        Assert.Equal(1, await webhook.CountedAsync(KwarmMetrics.Decisions.Allow, KwarmMetrics.NodeKind, 1));
        Assert.Equal(0, webhook.Requests(KwarmMetrics.Decisions.Allow, "Deployment"));
    }

    [Fact]
    public async Task Without_the_flag_the_path_answers_every_node_unchanged()
    {
        await using var webhook = await Webhook.StartAsync(taintNewNodes: false);

        var (status, body) = await webhook.PostAsync(AdmissionEndpoint.NodesPath, Review(Node()));

        Assert.Equal(HttpStatusCode.OK, status);
        var response = JsonNode.Parse(body)!["response"]!.AsObject();
        Assert.True((bool)response["allowed"]!);
        Assert.Null(response["patch"]);
        Assert.Equal(1, await webhook.CountedAsync(KwarmMetrics.Decisions.Allow, KwarmMetrics.NodeKind, 1));
    }

    [Fact]
    public async Task A_malformed_review_gets_400_and_counts_as_invalid_under_Node()
    {
        await using var webhook = await Webhook.StartAsync(taintNewNodes: true);

        var (status, message) = await webhook.PostAsync(AdmissionEndpoint.NodesPath, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("has no \"request\"", message, StringComparison.Ordinal);
        Assert.Equal(1, await webhook.CountedAsync(KwarmMetrics.Decisions.Invalid, KwarmMetrics.NodeKind, 1));
        Assert.Equal(0, webhook.Requests(KwarmMetrics.Decisions.Invalid, "Deployment"));
        Assert.Equal(0, webhook.Services.GetRequiredService<AdmissionBodyBudget>().BytesInUse);
    }

    [Fact]
    public async Task Only_the_nodes_path_taints_a_node()
    {
        await using var webhook = await Webhook.StartAsync(taintNewNodes: true);

        var (status, body) = await webhook.PostAsync(AdmissionEndpoint.Path, Review(Node()));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(JsonNode.Parse(body)!["response"]!["patch"]);
        Assert.Equal(0, webhook.Requests(KwarmMetrics.Decisions.Allow, KwarmMetrics.NodeKind));
    }

    /// <summary>The admission endpoints on a loopback port, with the flag as given, and a reader of the request counter.</summary>
    private sealed class Webhook : IAsyncDisposable
    {
        private readonly string _certificateDirectory;
        private readonly WebApplication _app;
        private readonly HttpClient _client;

        private Webhook(string certificateDirectory, WebApplication app)
        {
            _certificateDirectory = certificateDirectory;
            _app = app;
            _client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        }

        public IServiceProvider Services => _app.Services;

        public static async Task<Webhook> StartAsync(bool taintNewNodes)
        {
            var certificates = Directory.CreateTempSubdirectory("kwarm-nodes-").FullName;
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            builder.Services.Configure<KwarmOptions>(options =>
            {
                options.WebhookCertDir = certificates;
                options.TaintNewNodes = taintNewNodes;
            });
            builder.Services.AddKwarmAdmission();
            var app = builder.Build();
            app.MapKwarmAdmission();
            await app.StartAsync(Token);
            return new Webhook(certificates, app);
        }

        public async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, JsonObject review) => await PostAsync(path, review.ToJsonString());

        public async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string body)
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _client.PostAsync(path, content, Token);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Token));
        }

        /// <summary><c>kwarm_webhook_requests_total{decision, kind}</c> of this host's meter, as a scrape would read it.</summary>
        /// <summary>
        /// The count once it reaches <paramref name="expected"/>: the endpoint counts a request after its answer is
        /// written, so the client can read the metrics a moment before the count.
        /// </summary>
        public async Task<long> CountedAsync(string decision, string kind, long expected)
        {
            await Eventually.WaitUntilAsync(() => CountOrZero(decision, kind) == expected, $"{expected} request(s) counted as decision={decision}, kind={kind}");
            return Requests(decision, kind);
        }

        private long CountOrZero(string decision, string kind)
        {
            try
            {
                return Requests(decision, kind);
            }
            catch (InvalidOperationException)
            {
                return 0;
            }
        }

        public long Requests(string decision, string kind)
        {
            var meterFactory = _app.Services.GetRequiredService<IMeterFactory>();
            _ = _app.Services.GetRequiredService<KwarmMetrics>();
            long? found = null;
            using var listener = new MeterListener
            {
                InstrumentPublished = (instrument, subscriber) =>
                {
                    if (instrument.Meter.Scope == meterFactory && instrument.Name == "kwarm_webhook_requests_total")
                    {
                        subscriber.EnableMeasurementEvents(instrument);
                    }
                },
            };
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                var labels = tags.ToArray().ToDictionary(tag => tag.Key, tag => tag.Value as string, StringComparer.Ordinal);
                if (labels["decision"] == decision && labels["kind"] == kind)
                {
                    found = value;
                }
            });
            listener.Start();
            listener.RecordObservableInstruments();
            return found ?? throw new InvalidOperationException($"no series decision={decision}, kind={kind}");
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
            Directory.Delete(_certificateDirectory, recursive: true);
        }
    }
}
