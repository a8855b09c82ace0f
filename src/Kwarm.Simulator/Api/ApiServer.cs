using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Admission;
using Microsoft.AspNetCore.Http;

namespace Kwarm.Simulator.Api;

/// <summary>The REST front of the simulated kube-apiserver: routing, verbs, discovery and the write pipeline.</summary>
public sealed partial class ApiServer : IDisposable
{
    private const int MaxBodyBytes = 3 * 1024 * 1024;

    internal static readonly JsonSerializerOptions Output = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ResourceCatalog _catalog;
    private readonly ObjectStore _store;
    private readonly IAdmission _admission;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, UserInfo> _users = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TimeSpan _bookmarkInterval;
    private long _requests;

    /// <summary>Every resource request by user, verb, resource and namespace.</summary>
    public RequestAudit Audit { get; } = new();

    public ApiServer(ResourceCatalog catalog, ObjectStore store, IAdmission admission, TimeProvider time, string token, TimeSpan bookmarkInterval)
    {
        _catalog = catalog;
        _store = store;
        _admission = admission;
        _time = time;
        _users[token] = UserInfo.Admin;
        _bookmarkInterval = bookmarkInterval;
    }

    /// <summary>Requests served since start (for the benchmark's request rate).</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Interlocked.Increment(ref _requests);
        try
        {
            var user = Authenticate(context.Request);
            if (user is null)
            {
                await WriteJsonAsync(context, 401, new ApiException(401, "Unauthorized", "Unauthorized").ToStatus()).ConfigureAwait(false);
                return;
            }

            await RouteAsync(context, user).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            if (!context.Response.HasStarted)
            {
                await WriteJsonAsync(context, e.Code, e.ToStatus()).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nothing left to answer.
        }
#pragma warning disable CA1031 // A bug in one request must become a 500 for that request, never a dead server.
        catch (Exception e)
#pragma warning restore CA1031
        {
            if (!context.Response.HasStarted)
            {
                await WriteJsonAsync(context, 500, ApiException.InternalError(e.Message).ToStatus()).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Ends every open watch (as a restarting API server does), so that shutdown does not wait for clients.</summary>
    public void StopWatches() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();

    /// <summary>Adds a bearer token that authenticates as <paramref name="user"/>.</summary>
    public void AddUser(string token, UserInfo user) => _users[token] = user;

    private UserInfo? Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.Length > 7 && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && _users.TryGetValue(header[7..].Trim(), out var user)
            ? user
            : null;
    }

    private async Task RouteAsync(HttpContext context, UserInfo user)
    {
        var path = context.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (segments)
        {
            case []:
                await WriteJsonAsync(context, 200, new JsonObject { ["paths"] = new JsonArray("/api", "/api/v1", "/apis", "/version", "/healthz", "/openapi/v2", "/openapi/v3") }).ConfigureAwait(false);
                return;
            case ["healthz" or "livez" or "readyz", ..]:
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("ok", context.RequestAborted).ConfigureAwait(false);
                return;
            case ["version"]:
                await WriteJsonAsync(context, 200, Discovery.Version()).ConfigureAwait(false);
                return;
            case ["api"]:
                await WriteJsonAsync(context, 200, Discovery.CoreVersions(context.Request.Host.ToString())).ConfigureAwait(false);
                return;
            case ["apis"]:
                await WriteJsonAsync(context, 200, Discovery.Groups(_catalog)).ConfigureAwait(false);
                return;
            case ["api", var version]:
                await WriteJsonAsync(context, 200, Discovery.ResourceList(_catalog, "", version)).ConfigureAwait(false);
                return;
            case ["apis", var group]:
                await WriteJsonAsync(context, 200, Discovery.Group(_catalog, group)).ConfigureAwait(false);
                return;
            case ["apis", var group, var version]:
                await WriteJsonAsync(context, 200, Discovery.ResourceList(_catalog, group, version)).ConfigureAwait(false);
                return;
            case ["openapi", ..]:
                await OpenApi.ServeAsync(context, _catalog, segments).ConfigureAwait(false);
                return;
            case ["api", var version, .. var rest]:
                await ResourceAsync(context, user, "", version, rest).ConfigureAwait(false);
                return;
            case ["apis", var group, var version, .. var rest]:
                await ResourceAsync(context, user, group, version, rest).ConfigureAwait(false);
                return;
            default:
                throw new ApiException(404, "NotFound", "the server could not find the requested resource");
        }
    }

    private async Task ResourceAsync(HttpContext context, UserInfo user, string group, string version, string[] rest)
    {
        string ns = "";
        if (rest.Length >= 3 && rest[0] == "namespaces" && _catalog.Find(group, version, rest[2]) is { Namespaced: true })
        {
            ns = rest[1];
            rest = rest[2..];
        }

        var type = (rest.Length > 0 ? _catalog.Find(group, version, rest[0]) : null)
            ?? throw new ApiException(404, "NotFound", "the server could not find the requested resource");
        var name = rest.Length > 1 ? Uri.UnescapeDataString(rest[1]) : null;
        var subresource = rest.Length > 2 ? rest[2] : null;
        var eviction = subresource == "eviction" && type.StorageKey == "pods";
        var log = subresource == "log" && type.StorageKey == "pods";
        if (rest.Length > 3 || (subresource is not null && !(subresource == "status" && type.HasStatus) && !(subresource == "scale" && type.HasScale) && !eviction && !log))
        {
            throw new ApiException(404, "NotFound", "the server could not find the requested resource");
        }

        var request = new RequestScope(type, version, type.Namespaced ? ns : "", name, subresource, context.Request.Query, user, context.RequestAborted)
        {
            Warn = new WarningHeaders(context.Response).Add,
        };
        var method = context.Request.Method;
        Audit.Record(new AuditedRequest(
            user.Name, RequestAudit.VerbOf(method, name is not null, IsTrue(request.Query("watch"))), group, rest[0], subresource, request.Namespace));
        switch (method)
        {
            case "GET" when name is null && IsTrue(request.Query("watch")):
                await WatchAsync(context, request).ConfigureAwait(false);
                return;
            case "GET" when name is null:
                await WriteListAsync(context, request).ConfigureAwait(false);
                return;
            case "GET" when log:
                await WriteLogAsync(context, request).ConfigureAwait(false);
                return;
            case "GET":
                {
                    var stored = _store.Get(type, request.Namespace, name) ?? throw ApiException.NotFound(type, name);
                    if (subresource != "scale" && type.Versions.Count == 1 && !TableRequested(context.Request))
                    {
                        await WriteBytesAsync(context, 200, stored.Json).ConfigureAwait(false);
                        return;
                    }

                    var node = Present(stored, version);
                    if (TableRequested(context.Request))
                    {
                        await WriteJsonAsync(context, 200, Tables.Build(type, [node], _time.GetUtcNow(), stored.ResourceVersion, context.Request.Query["includeObject"].ToString())).ConfigureAwait(false);
                        return;
                    }

                    await WriteJsonAsync(context, 200, subresource == "scale" ? ScaleOf(node) : node).ConfigureAwait(false);
                    return;
                }

            case "POST" when eviction:
                {
                    // No PodDisruptionBudgets are simulated: an eviction is a delete (this is what kubectl drain uses).
                    await ReadBodyAsync(context).ConfigureAwait(false);
                    Delete(request with { SubResource = null }, []);
                    await WriteJsonAsync(context, 201, new JsonObject
                    {
                        ["kind"] = "Status",
                        ["apiVersion"] = "v1",
                        ["metadata"] = new JsonObject(),
                        ["status"] = "Success",
                        ["code"] = 201,
                    }).ConfigureAwait(false);
                    return;
                }

            case "POST" when name is null:
                {
                    var body = await ReadObjectAsync(context).ConfigureAwait(false);
                    var (code, created) = await CreateAsync(request, body).ConfigureAwait(false);
                    await WriteJsonAsync(context, code, created).ConfigureAwait(false);
                    return;
                }

            case "PUT" when name is not null:
                {
                    var body = await ReadObjectAsync(context).ConfigureAwait(false);
                    var updated = await UpdateAsync(request, body).ConfigureAwait(false);
                    await WriteJsonAsync(context, 200, updated).ConfigureAwait(false);
                    return;
                }

            case "PATCH" when name is not null:
                {
                    var body = await ReadBodyAsync(context).ConfigureAwait(false);
                    var (code, patched) = await PatchAsync(request, context.Request.ContentType ?? "", body).ConfigureAwait(false);
                    await WriteJsonAsync(context, code, patched).ConfigureAwait(false);
                    return;
                }

            case "DELETE" when name is not null && subresource is null:
                {
                    var body = await ReadBodyAsync(context).ConfigureAwait(false);
                    var (code, deleted) = Delete(request, body);
                    await WriteJsonAsync(context, code, deleted).ConfigureAwait(false);
                    return;
                }

            case "DELETE" when name is null:
                {
                    var body = await ReadBodyAsync(context).ConfigureAwait(false);
                    await WriteJsonAsync(context, 200, DeleteCollection(request, body)).ConfigureAwait(false);
                    return;
                }

            default:
                throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource");
        }
    }

    /// <summary>
    /// Simulated containers print nothing: a started container has an empty log, and one that never started answers
    /// as the kubelet does (400, waiting to start, with the reason).
    /// </summary>
    private async Task WriteLogAsync(HttpContext context, RequestScope request)
    {
        var pod = (_store.Get(request.Type, request.Namespace, request.Name!) ?? throw ApiException.NotFound(request.Type, request.Name!)).ToNode();
        var statuses = pod.Objects("status", "initContainerStatuses").Concat(pod.Objects("status", "containerStatuses")).ToList();
        var containerName = request.Query("container") ?? pod.Objects("spec", "containers").FirstOrDefault()?.Str("name") ?? "";
        var status = statuses.FirstOrDefault(s => s.Str("name") == containerName);
        if (status is null && !pod.Objects("spec", "containers").Concat(pod.Objects("spec", "initContainers")).Any(c => c.Str("name") == containerName))
        {
            throw ApiException.BadRequest($"container {containerName} is not valid for pod {request.Name}");
        }

        if (status is null || status.At("state", "waiting") is not null)
        {
            var reason = status?.Str("state", "waiting", "reason") ?? "ContainerCreating";
            var detail = reason is "ErrImagePull" or "ImagePullBackOff" ? "trying and failing to pull image" : reason;
            throw ApiException.BadRequest($"container \"{containerName}\" in pod \"{request.Name}\" is waiting to start: {detail}");
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain";
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The object as served at <paramref name="version"/> (CRDs may be served under several versions).</summary>
    private static JsonObject Present(StoredObject stored, string version)
    {
        var node = stored.ToNode();
        if (stored.Type.Versions.Count > 1)
        {
            node["apiVersion"] = stored.Type.Group.Length == 0 ? version : $"{stored.Type.Group}/{version}";
        }

        return node;
    }

    internal static JsonObject ScaleOf(JsonObject obj)
    {
        var metadata = obj.Metadata();
        var scaleMetadata = new JsonObject();
        foreach (var field in new[] { "name", "namespace", "uid", "resourceVersion", "creationTimestamp" })
        {
            if (metadata[field] is { } value)
            {
                scaleMetadata[field] = value.DeepClone();
            }
        }

        var selector = LabelSelectorText(obj.At("spec", "selector"));
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = scaleMetadata,
            ["spec"] = new JsonObject { ["replicas"] = obj.Long("spec", "replicas") ?? 0 },
            ["status"] = new JsonObject { ["replicas"] = obj.Long("status", "replicas") ?? 0, ["selector"] = selector },
        };
    }

    internal static string LabelSelectorText(JsonNode? selector)
    {
        var parts = new List<string>();
        foreach (var (key, value) in selector.StringMap("matchLabels").OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            parts.Add($"{key}={value}");
        }

        foreach (var expression in selector.Objects("matchExpressions"))
        {
            var values = expression["values"] is JsonArray array ? string.Join(",", array.Select(v => v?.ToString())) : "";
            parts.Add((expression.Str("operator") ?? "") switch
            {
                "In" => $"{expression.Str("key")} in ({values})",
                "NotIn" => $"{expression.Str("key")} notin ({values})",
                "Exists" => expression.Str("key") ?? "",
                _ => $"!{expression.Str("key")}",
            });
        }

        return string.Join(",", parts);
    }

    private static bool IsTrue(string? value) => value is "true" or "1" or "True";

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxBodyBytes)
                {
                    throw new ApiException(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var contentType = context.Request.ContentType ?? "";
        if (contentType.StartsWith("application/vnd.kubernetes.protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return ProtobufObjects.Decode(body);
        }

        if (contentType.StartsWith("application/cbor", StringComparison.OrdinalIgnoreCase))
        {
            // client-go falls back to JSON when a CBOR body gets 415.
            throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
        }

        return ParseObject(body);
    }

    internal static JsonObject ParseObject(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw ApiException.BadRequest("the body of the request must be a JSON object");
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the body of the request could not be decoded as JSON: {e.Message}");
        }
    }

    internal static Task WriteJsonAsync(HttpContext context, int code, JsonNode body) =>
        WriteBytesAsync(context, code, JsonSerializer.SerializeToUtf8Bytes(body, Output));

    private static async Task WriteBytesAsync(HttpContext context, int code, byte[] bytes)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The parts of one resource request every verb needs.</summary>
    internal sealed record RequestScope(ResourceType Type, string Version, string Namespace, string? Name, string? SubResource, IQueryCollection QueryValues, UserInfo User, CancellationToken Cancellation)
    {
        public string? Query(string key) => QueryValues.TryGetValue(key, out var value) ? value.ToString() : null;

        /// <summary>Adds a warning for the client (an admission webhook's <c>response.warnings</c>).</summary>
        public Action<string> Warn { get; init; } = _ => { };

        public bool DryRun => QueryValues.TryGetValue("dryRun", out var value) && value.Count > 0 && value.ToString().Length > 0;

        public string ApiVersion => Type.Group.Length == 0 ? Version : $"{Type.Group}/{Version}";

        /// <summary>The CreateOptions/UpdateOptions a webhook sees, built from the query like the API server does.</summary>
        public JsonObject Options(string kind)
        {
            var options = new JsonObject { ["kind"] = kind, ["apiVersion"] = "meta.k8s.io/v1" };
            if (QueryValues.TryGetValue("dryRun", out var dryRun) && dryRun.Count > 0)
            {
                options["dryRun"] = new JsonArray([.. dryRun.Select(d => (JsonNode?)d)]);
            }

            if (Query("fieldManager") is { Length: > 0 } manager)
            {
                options["fieldManager"] = manager;
            }

            if (Query("fieldValidation") is { Length: > 0 } validation)
            {
                options["fieldValidation"] = validation;
            }

            return options;
        }
    }

    private static long? ParseResourceVersion(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ApiException.BadRequest($"invalid resource version \"{text}\"");
    }

    private static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Decode(string text)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            throw ApiException.BadRequest("continue key is not valid: illegal base64 data");
        }
    }
}
