using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;
using Kwarm.Simulator.Hosting;
using Microsoft.Extensions.Logging;

namespace Kwarm.Simulator.Admission;

/// <summary>
/// Calls the registered MutatingWebhookConfigurations the way kube-apiserver does: rule, namespace and object
/// selector matching, an AdmissionReview v1 over HTTPS trusted through the caBundle, JSON Patch responses,
/// failurePolicy and timeoutSeconds, and one reinvocation round for <c>reinvocationPolicy: IfNeeded</c>.
/// </summary>
public sealed class WebhookDispatcher : IAdmission, IDisposable
{
    private readonly ObjectStore _store;
    private readonly ResourceCatalog _catalog;
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IPEndPoint> _services;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private long _calls;

    public WebhookDispatcher(ObjectStore store, ResourceCatalog catalog, SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _catalog = catalog;
        _services = new ConcurrentDictionary<string, IPEndPoint>(options.WebhookServices, StringComparer.Ordinal);
        _time = options.Time;
        _log = options.LoggerFactory.CreateLogger("Kwarm.Simulator.Webhooks");
    }

    /// <summary>Routes calls for the Service <paramref name="namespaceAndName"/> (<c>ns/name</c>) to a loopback endpoint.</summary>
    public void MapService(string namespaceAndName, IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!IPAddress.IsLoopback(endpoint.Address))
        {
            throw new ArgumentException("webhook services map to loopback addresses only", nameof(endpoint));
        }

        _services[namespaceAndName] = endpoint;
    }

    /// <summary>Webhook calls made so far (tests assert that a webhook was or was not called).</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Each call with its latency as the API server saw it.</summary>
    public WebhookCallLog CallLog { get; } = new();

    public async Task<JsonObject> AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        var configurationType = _catalog.Get("admissionregistration.k8s.io", "mutatingwebhookconfigurations");
        var webhooks = _store.List(configurationType, null).Items
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .SelectMany(c => c.ToNode().Objects("webhooks"))
            .Where(w => Matches(w, attributes))
            .ToList();
        if (webhooks.Count == 0)
        {
            return attributes.Object;
        }

        var current = attributes.Object;
        var changedAfter = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var webhook in webhooks)
        {
            var before = current.DeepClone();
            current = await CallAsync(webhook, attributes with { Object = current }, cancellationToken).ConfigureAwait(false);
            var changed = !JsonNode.DeepEquals(before, current);
            foreach (var key in changedAfter.Keys.ToList())
            {
                changedAfter[key] |= changed;
            }

            changedAfter[webhook.Str("name") ?? ""] = false;
        }

        // Reinvocation: webhooks that asked for it run once more if a later webhook changed the object.
        foreach (var webhook in webhooks.Where(w => w.Str("reinvocationPolicy") == "IfNeeded" && changedAfter.GetValueOrDefault(w.Str("name") ?? "")))
        {
            current = await CallAsync(webhook, attributes with { Object = current }, cancellationToken).ConfigureAwait(false);
        }

        return current;
    }

    private bool Matches(JsonObject webhook, AdmissionAttributes attributes)
    {
        var resourceName = attributes.SubResource is null ? attributes.Resource.Plural : $"{attributes.Resource.Plural}/{attributes.SubResource}";
        var ruleMatch = webhook.Objects("rules").Any(rule =>
            Contains(rule["operations"], attributes.Operation)
            && Contains(rule["apiGroups"], attributes.Resource.Group)
            && Contains(rule["apiVersions"], attributes.Resource.Version)
            && ResourceMatches(rule["resources"], resourceName, attributes.SubResource)
            && ScopeMatches(rule.Str("scope"), attributes.Resource.Namespaced));
        if (!ruleMatch)
        {
            return false;
        }

        if (attributes.Resource.Namespaced && webhook["namespaceSelector"] is JsonObject namespaceSelector)
        {
            var ns = _store.Get(_catalog.Get("", "namespaces"), "", attributes.Namespace);
            if (!LabelSelector.FromObject(namespaceSelector).Matches(ns?.Labels ?? new Dictionary<string, string>()))
            {
                return false;
            }
        }

        if (webhook["objectSelector"] is JsonObject objectSelector)
        {
            var selector = LabelSelector.FromObject(objectSelector);
            var labelsNew = attributes.SubResource == "scale" ? [] : attributes.Object.StringMap("metadata", "labels");
            var labelsOld = attributes.OldObject is null || attributes.SubResource == "scale" ? null : attributes.OldObject.StringMap("metadata", "labels");
            if (!selector.Matches(labelsNew) && (labelsOld is null || !selector.Matches(labelsOld)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Contains(JsonNode? list, string value) =>
        list is JsonArray array && array.Any(v => v?.ToString() is { } s && (s == "*" || s == value));

    private static bool ResourceMatches(JsonNode? list, string resourceName, string? subresource) =>
        list is JsonArray array && array.Any(v => v?.ToString() is { } s && (s == resourceName || (s == "*" && subresource is null) || s == "*/*" || (subresource is not null && s == $"*/{subresource}")));

    private static bool ScopeMatches(string? scope, bool namespaced) =>
        scope is null or "*" || (scope == "Namespaced") == namespaced;

    private async Task<JsonObject> CallAsync(JsonObject webhook, AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        var name = webhook.Str("name") ?? "";
        var failOpen = webhook.Str("failurePolicy") == "Ignore";
        var sideEffects = webhook.Str("sideEffects");
        if (attributes.DryRun && sideEffects is not ("None" or "NoneOnDryRun"))
        {
            throw ApiException.BadRequest($"admission webhook \"{name}\" does not support dry run");
        }

        var timeout = TimeSpan.FromSeconds(Math.Clamp(webhook.Long("timeoutSeconds") ?? 10, 1, 30));
        Uri target;
        try
        {
            target = Target(webhook, timeout);
        }
        catch (InvalidOperationException e)
        {
            return failOpen ? attributes.Object : throw ApiException.InternalError($"Internal error occurred: failed calling webhook \"{name}\": {e.Message}");
        }

        var uid = Guid.NewGuid().ToString();
        var review = Review(attributes, uid);
        Interlocked.Increment(ref _calls);
        JsonObject? response;
        var sentAt = _time.GetUtcNow();
        var sent = _time.GetTimestamp();
        try
        {
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            var client = Client(webhook);
            using var content = new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json");
            using var reply = await client.PostAsync(target, content, timeoutSource.Token).ConfigureAwait(false);
            var text = await reply.Content.ReadAsStringAsync(timeoutSource.Token).ConfigureAwait(false);
            if (!reply.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"an error on the server (\"{text.Trim()}\") has prevented the request from succeeding", null, reply.StatusCode);
            }

            response = JsonNode.Parse(text)?["response"] as JsonObject
                ?? throw new HttpRequestException("expected response.response in AdmissionReview");
            if (response.Str("uid") != uid)
            {
                throw new HttpRequestException($"expected response.uid=\"{uid}\", got \"{response.Str("uid")}\"");
            }

            CallLog.Record(new WebhookCall(name, attributes.Operation, attributes.Namespace, attributes.Name, sentAt, _time.GetElapsedTime(sent), Answered: true));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or IOException)
        {
            CallLog.Record(new WebhookCall(name, attributes.Operation, attributes.Namespace, attributes.Name, sentAt, _time.GetElapsedTime(sent), Answered: false));
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            var reason = e is OperationCanceledException ? "context deadline exceeded" : e.Message;
            if (UnroutedService(webhook) is { } service)
            {
                _log.ServiceNotRouted(name, service, $"{service}=127.0.0.1:PORT", failOpen ? "went through unchanged (failurePolicy Ignore)" : "was refused (failurePolicy Fail)");
            }
            else
            {
                _log.CallFailed(name, target, reason, failOpen ? "went through unchanged (failurePolicy Ignore)" : "was refused (failurePolicy Fail)");
            }

            return failOpen
                ? attributes.Object
                : throw ApiException.InternalError($"Internal error occurred: failed calling webhook \"{name}\": failed to call webhook: Post \"{target}\": {reason}");
        }

        foreach (var warning in response["warnings"] as JsonArray ?? [])
        {
            if (warning?.ToString() is { Length: > 0 } text)
            {
                attributes.Warn(text);
            }
        }

        if (response.Bool("allowed") != true)
        {
            var code = (int)(response.Long("status", "code") ?? 400);
            var message = response.Str("status", "message") ?? "";
            var reason = response.Str("status", "reason") ?? (code == 403 ? "Forbidden" : "BadRequest");
            throw new ApiException(code, reason, $"admission webhook \"{name}\" denied the request{(message.Length > 0 ? ": " + message : " without explanation")}");
        }

        if (response.Str("patch") is not { Length: > 0 } encoded)
        {
            return attributes.Object;
        }

        if (response.Str("patchType") != "JSONPatch")
        {
            throw ApiException.InternalError($"Internal error occurred: admission webhook \"{name}\" returned an unsupported patchType \"{response.Str("patchType")}\"");
        }

        try
        {
            var patch = JsonNode.Parse(Convert.FromBase64String(encoded));
            return (JsonObject)JsonPatch.Apply(attributes.Object, patch);
        }
        catch (Exception e) when (e is FormatException or JsonException or ApiException or InvalidCastException)
        {
            throw ApiException.InternalError($"Internal error occurred: admission webhook \"{name}\" returned an invalid patch: {e.Message}");
        }
    }

    /// <summary>The AdmissionReview v1 request, shaped like the recorded fixtures.</summary>
    internal static JsonObject Review(AdmissionAttributes attributes, string uid)
    {
        var type = attributes.Resource;
        var scale = attributes.SubResource == "scale";
        var kind = scale
            ? new JsonObject { ["group"] = "autoscaling", ["version"] = "v1", ["kind"] = "Scale" }
            : new JsonObject { ["group"] = type.Group, ["version"] = type.Version, ["kind"] = type.Kind };
        var resource = new JsonObject { ["group"] = type.Group, ["version"] = type.Version, ["resource"] = type.Plural };
        var request = new JsonObject
        {
            ["uid"] = uid,
            ["kind"] = kind,
            ["resource"] = resource,
        };
        if (attributes.SubResource is not null)
        {
            request["subResource"] = attributes.SubResource;
        }

        request["requestKind"] = kind.DeepClone();
        request["requestResource"] = resource.DeepClone();
        if (attributes.SubResource is not null)
        {
            request["requestSubResource"] = attributes.SubResource;
        }

        request["name"] = attributes.Name;
        if (type.Namespaced)
        {
            request["namespace"] = attributes.Namespace;
        }

        request["operation"] = attributes.Operation;
        request["userInfo"] = new JsonObject
        {
            ["username"] = attributes.User.Name,
            ["groups"] = new JsonArray([.. attributes.User.Groups.Select(g => (JsonNode)g)]),
        };
        request["object"] = attributes.Object.DeepClone();
        request["oldObject"] = attributes.OldObject?.DeepClone();
        request["dryRun"] = attributes.DryRun;
        request["options"] = attributes.Options.DeepClone();
        return new JsonObject { ["kind"] = "AdmissionReview", ["apiVersion"] = "admission.k8s.io/v1", ["request"] = request };
    }

    private static Uri Target(JsonObject webhook, TimeSpan timeout)
    {
        var seconds = (int)timeout.TotalSeconds;
        if (webhook.Str("clientConfig", "url") is { } url)
        {
            var builder = new UriBuilder(url);
            builder.Query = string.IsNullOrEmpty(builder.Query) ? $"timeout={seconds}s" : builder.Query.TrimStart('?') + $"&timeout={seconds}s";
            return builder.Uri;
        }

        var service = webhook.At("clientConfig", "service") as JsonObject
            ?? throw new InvalidOperationException("clientConfig has neither url nor service");
        var port = service.Long("port") ?? 443;
        var path = service.Str("path") ?? "/";
        return new Uri($"https://{service.Str("name")}.{service.Str("namespace")}.svc:{port}{path}?timeout={seconds}s");
    }

    /// <summary>The <c>namespace/name</c> of the webhook's Service when no local endpoint serves it, else null.</summary>
    private string? UnroutedService(JsonObject webhook) =>
        webhook.At("clientConfig", "service") is JsonObject service && $"{service.Str("namespace")}/{service.Str("name")}" is var key && !_services.ContainsKey(key)
            ? key
            : null;

    private HttpClient Client(JsonObject webhook)
    {
        var caBundle = webhook.Str("clientConfig", "caBundle") ?? "";
        var service = webhook.At("clientConfig", "service") as JsonObject;
        var serviceKey = service is null ? "" : $"{service.Str("namespace")}/{service.Str("name")}";
        return _clients.GetOrAdd($"{serviceKey}|{caBundle}", _ => CreateClient(caBundle, serviceKey));
    }

    private HttpClient CreateClient(string caBundle, string serviceKey)
    {
        var authorities = new X509Certificate2Collection();
        if (caBundle.Length > 0)
        {
            try
            {
                authorities.ImportFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(caBundle)));
            }
            catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
            {
                // An unreadable caBundle trusts nothing: every call then fails TLS, as on a real server.
            }
        }

        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
                    && certificate is X509Certificate2 presented
                    && authorities.Count > 0
                    && authorities.Cast<X509Certificate2>().Any(a => ClusterCertificates.ChainsTo(presented, a)),
            },
        };
        if (serviceKey.Length > 0)
        {
            handler.ConnectCallback = async (context, token) =>
            {
                if (!_services.TryGetValue(serviceKey, out var endpoint))
                {
                    throw new HttpRequestException($"dial tcp: lookup {context.DnsEndPoint.Host}: no such host");
                }

                var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(endpoint, token).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }
}
