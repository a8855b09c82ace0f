using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Attached;

/// <summary>
/// JSON requests to a real API server over KubernetesClient's own HTTP pipeline (its kubeconfig loading, TLS,
/// client certificates and tokens). The kubelets work on JSON as the API serves it, so objects are not mapped
/// through typed models (which would drop any field the model does not know). Error answers become
/// <see cref="ApiException"/>s carrying the server's code, reason and message.
/// </summary>
internal sealed class ApiConnection : IDisposable
{
    private readonly k8s.Kubernetes _client;

    private ApiConnection(k8s.Kubernetes client)
    {
        _client = client;
    }

    public Uri Server => _client.BaseUri;

    /// <summary>Connects with the current context of a kubeconfig file.</summary>
    public static ApiConnection FromKubeconfig(string path)
    {
        var configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);
        return new ApiConnection(new k8s.Kubernetes(configuration));
    }

    /// <summary>GET of one object; null when it does not exist.</summary>
    public async Task<JsonObject?> GetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiException e) when (e.Code == 404)
        {
            return null;
        }
    }

    public Task<JsonObject> PostAsync(string path, JsonObject body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, body, cancellationToken);

    public Task<JsonObject> PutAsync(string path, JsonObject body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, path, body, cancellationToken);

    public Task<JsonObject> MergePatchAsync(string path, JsonObject patch, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Patch, path, patch, cancellationToken, "application/merge-patch+json");

    public Task<JsonObject> DeleteAsync(string path, JsonObject options, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, path, options, cancellationToken);

    /// <summary>
    /// A watch: each event's type (<c>ADDED</c>, <c>MODIFIED</c>, <c>DELETED</c>, <c>BOOKMARK</c>, <c>ERROR</c>) and
    /// object, until the server ends the stream.
    /// </summary>
    public async IAsyncEnumerable<(string Type, JsonObject Object)> WatchAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = await RequestAsync(HttpMethod.Get, path, null, null, cancellationToken).ConfigureAwait(false);
        using var response = await _client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(request, response, cancellationToken).ConfigureAwait(false);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var watchEvent = JsonNode.Parse(line) as JsonObject ?? throw new JsonException("a watch event must be a JSON object");
            yield return (watchEvent.Str("type") ?? "", watchEvent["object"] as JsonObject ?? []);
        }
    }

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken, string contentType = "application/json")
    {
        using var request = await RequestAsync(method, path, body, contentType, cancellationToken).ConfigureAwait(false);
        using var response = await _client.HttpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(request, response, cancellationToken).ConfigureAwait(false);
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return text.Length == 0 ? [] : JsonNode.Parse(text) as JsonObject ?? [];
    }

    private async Task<HttpRequestMessage> RequestAsync(HttpMethod method, string path, JsonObject? body, string? contentType, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(_client.BaseUri, path))
        {
            // One HTTP/2 connection carries every node's pod watch and writes, as client-go does with a real API server.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("kwarm-simulated-kubelet", "1"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json");
        }

        if (_client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        return request;
    }

    private static async Task<ApiException> ErrorAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        JsonObject? status = null;
        try
        {
            status = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            // Not a Status body (a proxy's answer, say): the raw text is the message.
        }

        var code = (int)response.StatusCode;
        var reason = status?.Str("reason") ?? response.ReasonPhrase ?? "Unknown";
        var message = status?.Str("message") ?? $"{request.Method} {request.RequestUri?.PathAndQuery}: {(text.Length > 200 ? text[..200] : text)}";
        return new ApiException(code, reason, message, status?["details"]?.DeepClone() as JsonObject);
    }

    public void Dispose() => _client.Dispose();
}
