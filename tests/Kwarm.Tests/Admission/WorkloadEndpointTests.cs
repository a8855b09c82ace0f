using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kwarm.Admission;
using Kwarm.Hosting;
using Kwarm.Resources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Kwarm.Tests.Admission.WorkloadReviews;

namespace Kwarm.Tests.Admission;

/// <summary>The webhook's three paths (issue #16): one per kind registered, the decision by the request's kind.</summary>
public sealed class WorkloadEndpointTests : IAsyncLifetime
{
    private readonly string _certificateDirectory = Directory.CreateTempSubdirectory("kwarm-paths-").FullName;
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.Configure<KwarmOptions>(options => options.WebhookCertDir = _certificateDirectory);
        builder.Services.AddKwarmAdmission();
        _app = builder.Build();
        _app.MapKwarmAdmission();
        _app.Services.GetRequiredService<IPolicyCatalog>().Replace([AdmissionFixtures.Policy()]);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        Directory.Delete(_certificateDirectory, recursive: true);
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync(path, content, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static string PatchOf(string answer)
    {
        var response = JsonNode.Parse(answer)!["response"]!;
        Assert.True((bool)response["allowed"]!);
        return response["patch"] is { } patch ? Encoding.UTF8.GetString(Convert.FromBase64String((string)patch!)) : "";
    }

    [Theory]
    [InlineData(AdmissionEndpoint.StatefulSetsPath, WorkloadKind.StatefulSet, "/spec/updateStrategy/rollingUpdate/partition")]
    [InlineData(AdmissionEndpoint.DaemonSetsPath, WorkloadKind.DaemonSet, "/spec/updateStrategy")]
    public async Task Each_kind_is_held_on_its_own_path(string path, WorkloadKind kind, string specPath)
    {
        var (status, body) = await PostAsync(path, Review(kind).ToBytes());

        Assert.Equal(HttpStatusCode.OK, status);
        var patch = JsonNode.Parse(PatchOf(body))!.AsArray();
        Assert.Equal(specPath, (string?)patch[0]!["path"]);
        Assert.Contains(patch, operation => (string?)operation!["path"] == "/metadata/annotations/" + JsonPatchPointer(HoldRecord(kind)));
    }

    [Fact]
    public async Task The_kind_of_the_request_decides_whatever_path_it_came_in_on()
    {
        var (_, onDeployments) = await PostAsync(AdmissionEndpoint.Path, Review(WorkloadKind.StatefulSet).ToBytes());
        var (_, deploymentOnDaemonSets) = await PostAsync(AdmissionEndpoint.DaemonSetsPath, AdmissionFixtures.Bytes(AdmissionFixtures.SetImage));

        Assert.Contains("/spec/updateStrategy/rollingUpdate/partition", PatchOf(onDeployments), StringComparison.Ordinal);
        Assert.Contains("/spec/paused", PatchOf(deploymentOnDaemonSets), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_kind_is_allowed_without_a_patch_and_a_malformed_review_is_a_400()
    {
        var replicaSet = Review(WorkloadKind.StatefulSet);
        replicaSet.Request()["kind"] = new JsonObject { ["group"] = "apps", ["version"] = "v1", ["kind"] = "ReplicaSet" };

        var (allowed, body) = await PostAsync(AdmissionEndpoint.StatefulSetsPath, replicaSet.ToBytes());
        var (malformed, message) = await PostAsync(AdmissionEndpoint.DaemonSetsPath, Encoding.UTF8.GetBytes("{\"apiVersion\":"));

        Assert.Equal((HttpStatusCode.OK, ""), (allowed, PatchOf(body)));
        Assert.Equal(HttpStatusCode.BadRequest, malformed);
        Assert.Contains("not valid JSON", message, StringComparison.Ordinal);
    }

    private static string HoldRecord(WorkloadKind kind) => kind == WorkloadKind.StatefulSet ? KwarmApi.PartitionAnnotation : KwarmApi.UpdateStrategyAnnotation;

    private static string JsonPatchPointer(string key) => key.Replace("/", "~1", StringComparison.Ordinal);
}
