using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Kwarm.Simulator.Api;

public sealed partial class ApiServer
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private async Task WriteListAsync(HttpContext context, RequestScope request)
    {
        var type = request.Type;
        var labels = LabelSelector.Parse(request.Query("labelSelector"));
        var fields = FieldSelector.Parse(request.Query("fieldSelector"), type);
        var limit = request.Query("limit") is { Length: > 0 } limitText && int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var l) && l > 0 ? l : int.MaxValue;
        var requestedVersion = ParseResourceVersion(request.Query("resourceVersion"));
        var match = request.Query("resourceVersionMatch");
        if (match is { Length: > 0 } && requestedVersion is null)
        {
            throw ApiException.BadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
        }

        if (match == "Exact" && requestedVersion is { } exact && exact < _store.CurrentResourceVersion && exact <= _store.CompactedThrough)
        {
            throw ApiException.Expired("The resourceVersion for the provided list is too old.");
        }

        string? startAfter = null;
        long? listVersion = null;
        if (request.Query("continue") is { Length: > 0 } token)
        {
            var decoded = Decode(token);
            var separator = decoded.IndexOf('|', StringComparison.Ordinal);
            if (separator <= 0 || !long.TryParse(decoded[..separator], NumberStyles.None, CultureInfo.InvariantCulture, out var tokenVersion))
            {
                throw ApiException.BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
            }

            if (tokenVersion < _store.CompactedThrough)
            {
                throw ApiException.Expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to get a consistent snapshot.");
            }

            listVersion = tokenVersion;
            startAfter = decoded[(separator + 1)..];
        }

        var (items, currentVersion) = _store.List(type, request.Namespace, o =>
            (startAfter is null || string.CompareOrdinal(o.Key, startAfter) > 0) && labels.Matches(o.Labels) && fields.Matches(o));
        listVersion ??= currentVersion;
        var page = items.Count > limit ? items.Take(limit).ToList() : items;

        if (TableRequested(context.Request))
        {
            await WriteJsonAsync(context, 200, Tables.Build(type, page.Select(p => p.ToNode()).ToList(), _time.GetUtcNow(), listVersion.Value, context.Request.Query["includeObject"].ToString())).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        var metadata = new JsonObject { ["resourceVersion"] = listVersion.Value.ToString(CultureInfo.InvariantCulture) };
        if (page.Count < items.Count)
        {
            metadata["continue"] = Encode($"{listVersion.Value}|{page[^1].Key}");
            metadata["remainingItemCount"] = items.Count - page.Count;
        }

        var body = context.Response.Body;
        var head = new JsonObject
        {
            ["kind"] = type.ListKind,
            ["apiVersion"] = request.ApiVersion,
            ["metadata"] = metadata,
        }.ToJsonString(Output);
        await body.WriteAsync(Encoding.UTF8.GetBytes(head[..^1] + ",\"items\":["), request.Cancellation).ConfigureAwait(false);
        var builtIn = ResourceCatalog.BuiltIns.Any(b => b.StorageKey == type.StorageKey);
        for (var i = 0; i < page.Count; i++)
        {
            if (i > 0)
            {
                await body.WriteAsync(","u8.ToArray(), request.Cancellation).ConfigureAwait(false);
            }

            // Built-in lists carry items without kind/apiVersion (fixture list-deployments-limit1.json); custom resources keep them.
            var bytes = builtIn ? page[i].ListItemJson()
                : type.Versions.Count > 1 ? JsonSerializer.SerializeToUtf8Bytes(Present(page[i], request.Version), Output)
                : page[i].Json;
            await body.WriteAsync(bytes, request.Cancellation).ConfigureAwait(false);
        }

        await body.WriteAsync("]}"u8.ToArray(), request.Cancellation).ConfigureAwait(false);
    }

    private static bool TableRequested(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    private async Task WatchAsync(HttpContext context, RequestScope request)
    {
        var type = request.Type;
        var labels = LabelSelector.Parse(request.Query("labelSelector"));
        var fields = FieldSelector.Parse(request.Query("fieldSelector"), type);
        var from = ParseResourceVersion(request.Query("resourceVersion"));
        var bookmarks = IsTrue(request.Query("allowWatchBookmarks"));
        var table = TableRequested(context.Request);
        var includeObject = context.Request.Query["includeObject"].ToString();
        var timeout = request.Query("timeoutSeconds") is { Length: > 0 } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromMinutes(30);

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-cache, private";
        var body = context.Response.Body;

        StoreWatch watch;
        try
        {
            watch = _store.Watch(type, request.Namespace, from);
        }
        catch (ApiException e) when (e.Code == 410)
        {
            // A watch answers "too old" inside the stream, as one ERROR event (fixture watch-expired-410.jsonl).
            await WriteEventAsync(body, "ERROR", e.ToStatus(), request.Cancellation).ConfigureAwait(false);
            return;
        }

        using (watch)
        {
            await context.Response.StartAsync(request.Cancellation).ConfigureAwait(false);
            await body.FlushAsync(request.Cancellation).ConfigureAwait(false);
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(request.Cancellation, _stopping.Token);
            timeoutSource.CancelAfter(timeout);
            var token = timeoutSource.Token;
            var reader = watch.Events;
            try
            {
                Task<bool>? waitForEvent = null;
                while (!token.IsCancellationRequested)
                {
                    // One pending wait at a time: the channel has a single reader.
                    waitForEvent ??= reader.WaitToReadAsync(token).AsTask();
                    if (bookmarks)
                    {
                        using var tick = CancellationTokenSource.CreateLinkedTokenSource(token);
                        var delay = Task.Delay(_bookmarkInterval, _time, tick.Token);
                        var first = await Task.WhenAny(waitForEvent, delay).ConfigureAwait(false);
                        await tick.CancelAsync().ConfigureAwait(false);
                        if (first == delay)
                        {
                            var version = _store.CurrentResourceVersion;
                            if (reader.Count == 0)
                            {
                                await WriteBookmarkAsync(body, request, version, request.Cancellation).ConfigureAwait(false);
                            }

                            continue;
                        }
                    }

                    var more = await waitForEvent.ConfigureAwait(false);
                    waitForEvent = null;
                    if (!more)
                    {
                        return;
                    }

                    while (reader.TryRead(out var change))
                    {
                        var (typeName, include) = Classify(change, labels, fields);
                        if (include && table)
                        {
                            // kubectl get -w (and -o wide -w) asks for Tables: each event carries a one-row Table with
                            // every column, as the API server's watch encoder sends it.
                            var row = Tables.Build(type, [Present(change.Object, request.Version)], _time.GetUtcNow(), change.Object.ResourceVersion, includeObject);
                            await WriteEventAsync(body, typeName, row, request.Cancellation).ConfigureAwait(false);
                        }
                        else if (include)
                        {
                            await WriteStoredEventAsync(body, typeName, change.Object, request, request.Cancellation).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Watch timeout or client disconnect: end the stream quietly, as the API server does.
            }
        }
    }

    private static (string Type, bool Include) Classify(StoreEvent change, LabelSelector labels, FieldSelector fields)
    {
        bool Match(StoredObject o) => labels.Matches(o.Labels) && fields.Matches(o);
        return change.Type switch
        {
            WatchEventType.Modified when change.Previous is { } previous => (Match(previous), Match(change.Object)) switch
            {
                (true, true) => ("MODIFIED", true),
                (false, true) => ("ADDED", true),
                (true, false) => ("DELETED", true),
                _ => ("", false),
            },
            WatchEventType.Deleted => ("DELETED", Match(change.Previous ?? change.Object)),
            _ => (change.TypeName, Match(change.Object)),
        };
    }

    private static async Task WriteBookmarkAsync(Stream body, RequestScope request, long version, CancellationToken cancellationToken)
    {
        var bookmark = new JsonObject
        {
            ["kind"] = request.Type.Kind,
            ["apiVersion"] = request.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture) },
        };
        await WriteEventAsync(body, "BOOKMARK", bookmark, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a watch event around the stored JSON as it is (no parse) unless a version must be rewritten.</summary>
    private static async Task WriteStoredEventAsync(Stream body, string type, StoredObject stored, RequestScope request, CancellationToken cancellationToken)
    {
        if (stored.Type.Versions.Count > 1)
        {
            var item = stored.ToNode();
            item["apiVersion"] = request.ApiVersion;
            await WriteEventAsync(body, type, item, cancellationToken).ConfigureAwait(false);
            return;
        }

        await body.WriteAsync(Encoding.UTF8.GetBytes("{\"type\":\"" + type + "\",\"object\":"), cancellationToken).ConfigureAwait(false);
        await body.WriteAsync(stored.Json, cancellationToken).ConfigureAwait(false);
        await body.WriteAsync("}\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteEventAsync(Stream body, string type, JsonNode obj, CancellationToken cancellationToken)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = obj };
        await body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(line, Output), cancellationToken).ConfigureAwait(false);
        await body.WriteAsync(NewLine, cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
