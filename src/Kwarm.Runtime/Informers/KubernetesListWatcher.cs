using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kwarm.Runtime;

/// <summary>
/// LIST and WATCH over the client's own HTTP pipeline (its TLS, credentials and token refresh). One
/// code path serves built-in types and custom resources alike, and reading the watch stream line by line
/// here, rather than through the client's watcher, keeps ERROR events, bookmarks and truncated lines
/// visible to the informer instead of being swallowed by a callback.
/// <para>
/// An object that is valid JSON but does not fit <typeparamref name="T"/> (a custom resource written before
/// the CRD's schema was tightened, say) is logged and left out rather than failing the whole LIST or watch:
/// one bad object must not hide all the others. A watch event for such an object is
/// turned into a bookmark, so the watch still moves past it.
/// </para>
/// </summary>
public sealed class KubernetesListWatcher<T> : IResourceListWatcher<T>
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(60);

    private readonly k8s.Kubernetes _client;
    private readonly JsonSerializerOptions _json;
    private readonly string? _namespace;
    private readonly ILogger _logger;

    /// <param name="json">
    /// The application's serializer options, whose (source-generated, for NativeAOT) resolver knows <typeparamref name="T"/>
    /// and <see cref="WatchLine{TObject}"/> of <typeparamref name="T"/>.
    /// </param>
    /// <param name="namespace">Limits a namespaced type to one namespace; null watches all of them.</param>
    public KubernetesListWatcher(k8s.Kubernetes client, ResourceKind kind, JsonSerializerOptions json, string? @namespace = null, ILogger? logger = null)
    {
        _client = client;
        Kind = kind;

        // Fail at start, naming the type, rather than at the first LIST: the application's JSON context must know T.
        _ = RuntimeJson.TypeInfo<T>(json);
        _ = RuntimeJson.TypeInfo<WatchLine<T>>(json);
        _json = json;
        _namespace = @namespace;
        _logger = logger ?? NullLogger.Instance;
    }

    public ResourceKind Kind { get; }

    public async Task<ResourceListPage<T>> ListAsync(ListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = new List<string> { $"limit={request.Limit.ToString(CultureInfo.InvariantCulture)}" };
        AddIfSet(query, "continue", request.Continue);
        AddIfSet(query, "labelSelector", request.LabelSelector);
        AddIfSet(query, "fieldSelector", request.FieldSelector);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ListTimeout);
        using var response = await SendAsync(query, timeout.Token).ConfigureAwait(false);
        await response.Content.LoadIntoBufferAsync(timeout.Token).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        var list = JsonSerializer.Deserialize(body, RuntimeJsonContext.Default.ResourceListBody)
            ?? throw new InvalidDataException($"LIST {Kind.Plural} returned an empty body");

        var items = new List<T>(list.Items?.Count ?? 0);
        foreach (var element in list.Items ?? [])
        {
            T? item;
            try
            {
                item = element.Deserialize(RuntimeJson.TypeInfo<T>(_json));
            }
            catch (JsonException ex)
            {
                _logger.UnreadableObject(ex, Kind.Plural, Describe(element));
                continue;
            }

            if (item is null)
            {
                continue;
            }

            // A LIST leaves kind and apiVersion off its items; restore them so a cached object says what it is.
            item.ApiVersion = Kind.ApiVersion;
            item.Kind = Kind.Kind;
            items.Add(item);
        }

        return new ResourceListPage<T>(items, list.Metadata?.ResourceVersion ?? "", NullIfEmpty(list.Metadata?.ContinueProperty));
    }

    public async IAsyncEnumerable<ResourceWatchEvent<T>> WatchAsync(
        WatchRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = new List<string>
        {
            "watch=true",
            "allowWatchBookmarks=true",
            $"timeoutSeconds={Math.Max(1, (int)request.ServerTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)}",
        };
        AddIfSet(query, "resourceVersion", request.ResourceVersion);
        AddIfSet(query, "labelSelector", request.LabelSelector);
        AddIfSet(query, "fieldSelector", request.FieldSelector);

        using var response = await SendAsync(query, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                yield break;
            }

            if (line.Length > 0)
            {
                yield return ParseEvent(line, _json, Kind.Plural, _logger);
            }
        }
    }

    /// <summary>Parses one line of a watch stream.</summary>
    /// <exception cref="System.Text.Json.JsonException">The line is not a complete JSON event (a dropped connection).</exception>
    /// <exception cref="InvalidDataException">The event type is unknown.</exception>
    internal static ResourceWatchEvent<T> ParseEvent(string line, JsonSerializerOptions json, string plural, ILogger logger)
    {
        // The type decides how to read the object: an ERROR carries a Status, whose "status" is a string that
        // would not even parse as most resources' status.
        var typeName = ReadEventType(line);
        var type = typeName switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            "ERROR" => WatchEventType.Error,
            _ => throw new InvalidDataException($"Unknown watch event type '{typeName}'"),
        };

        if (type == WatchEventType.Error)
        {
            var status = JsonSerializer.Deserialize(line, RuntimeJsonContext.Default.WatchLineV1Status)?.Resource;
            return new ResourceWatchEvent<T>(type, null, status);
        }

        T? resource;
        try
        {
            resource = JsonSerializer.Deserialize(line, RuntimeJson.TypeInfo<WatchLine<T>>(json))?.Resource;
        }
        catch (JsonException ex) when (ReadObject(line) is { } element)
        {
            logger.UnreadableObject(ex, plural, Describe(element));
            var resourceVersion = element.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object &&
                                  metadata.TryGetProperty("resourceVersion", out var version) && version.ValueKind == JsonValueKind.String
                ? version.GetString()
                : null;
            return new ResourceWatchEvent<T>(WatchEventType.Bookmark, new T { Metadata = new V1ObjectMeta { ResourceVersion = resourceVersion } }, null);
        }

        return resource is null
            ? throw new InvalidDataException($"Watch event {typeName} carries no object")
            : new ResourceWatchEvent<T>(type, resource, null);
    }

    /// <summary>The event's object when the line is complete JSON; null when it is not (a cut-off line).</summary>
    private static JsonElement? ReadObject(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.TryGetProperty("object", out var element) ? element.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Describe(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            return "(no metadata)";
        }

        static string? Read(JsonElement metadata, string name) =>
            metadata.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        return ResourceKeys.For(Read(metadata, "namespace"), Read(metadata, "name") ?? "(unnamed)") +
               " at resourceVersion " + (Read(metadata, "resourceVersion") ?? "?");
    }

    /// <summary>Reads the top-level <c>type</c> of an event, skipping the object if it comes first.</summary>
    private static string? ReadEventType(string line)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(line));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A watch event must be a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("type"u8);
            reader.Read();
            if (isType)
            {
                return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }

            reader.Skip();
        }

        return null;
    }

    private async Task<HttpResponseMessage> SendAsync(List<string> query, CancellationToken cancellationToken)
    {
        var uri = new Uri(_client.BaseUri, Kind.CollectionPath(_namespace) + "?" + string.Join('&', query));
        using var request = new HttpRequestMessage(HttpMethod.Get, uri)
        {
            // HTTP/2 multiplexes every watch over one connection to a real API server; plain-HTTP test servers get HTTP/1.1.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var response = await _client.HttpClient
            .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ApiErrors.FromResponseAsync(request, response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void AddIfSet(List<string> query, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
