using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using System.Web;

namespace Kwarm.Tests.Kubernetes;

/// <summary>A request the scripted server received.</summary>
internal sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string Body)
{
    public bool IsWatch => Query.TryGetValue("watch", out var watch) && watch == "true";

    public string? this[string name] => Query.GetValueOrDefault(name);
}

/// <summary>What the scripted server answers to one request.</summary>
internal abstract record ScriptedResponse
{
    /// <summary>A complete JSON answer.</summary>
    public sealed record Json(int StatusCode, string Body, IReadOnlyDictionary<string, string>? Headers = null) : ScriptedResponse;

    /// <summary>
    /// A streamed (chunked) answer: <paramref name="Body"/> is written as it is, then the stream ends as
    /// <paramref name="End"/> says.
    /// </summary>
    public sealed record Stream(byte[] Body, StreamEnd End) : ScriptedResponse
    {
        public static Stream Lines(StreamEnd end, params string[] lines) =>
            new(Encoding.UTF8.GetBytes(string.Concat(lines.Select(line => line + "\n"))), end);
    }
}

internal enum StreamEnd
{
    /// <summary>The final chunk is sent: the server ended the watch normally.</summary>
    Close,

    /// <summary>The socket is closed without the final chunk: a dropped connection.</summary>
    Drop,

    /// <summary>Nothing more is sent and the connection stays open until the server is disposed.</summary>
    Hang,
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 that answers LIST and WATCH requests from scripts, in order,
/// and records every request. With its watch script exhausted, a watch hangs (a quiet cluster); with its
/// list script exhausted, a list gets 500.
/// </summary>
internal sealed class ScriptedApiServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<ScriptedResponse> _lists = new();
    private readonly ConcurrentQueue<ScriptedResponse> _watches = new();
    private readonly ConcurrentQueue<ScriptedResponse> _writes = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly Channel<RecordedRequest> _arrivals = Channel.CreateUnbounded<RecordedRequest>();
    private readonly Task _acceptLoop;

    public ScriptedApiServer()
    {
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>Consulted before the scripts; a null answer falls through to them. Runs on the connection's thread.</summary>
    public Func<RecordedRequest, ScriptedResponse?>? Handler { get; init; }

    /// <summary>Answer unscripted lists with an empty list at resourceVersion 1 instead of a 500.</summary>
    public bool EmptyListWhenUnscripted { get; init; }

    public void ScriptList(ScriptedResponse response) => _lists.Enqueue(response);

    public void ScriptWatch(ScriptedResponse response) => _watches.Enqueue(response);

    /// <summary>Answers the next request that is not a GET.</summary>
    public void ScriptWrite(ScriptedResponse response) => _writes.Enqueue(response);

    /// <summary>Waits for the next request the server receives (in arrival order).</summary>
    public async Task<RecordedRequest> NextRequestAsync(TimeSpan? timeout = null) =>
        await _arrivals.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TimeSpan.FromSeconds(10));

    /// <summary>Skips requests until one that is a watch, and returns it.</summary>
    public async Task<RecordedRequest> NextWatchAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var request = await NextRequestAsync(timeout);
            if (request.IsWatch)
            {
                return request;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream);
                if (request is null)
                {
                    return;
                }

                _requests.Enqueue(request);
                await _arrivals.Writer.WriteAsync(request);
                var script = request.Method != "GET" ? _writes : request.IsWatch ? _watches : _lists;
                var response = Handler?.Invoke(request) ?? (script.TryDequeue(out var next)
                    ? next
                    : request.IsWatch
                        ? new ScriptedResponse.Stream([], StreamEnd.Hang)
                        : EmptyListWhenUnscripted
                            ? new ScriptedResponse.Json(200, """{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}""")
                            : new ScriptedResponse.Json(500, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no scripted answer","code":500}"""));
                await WriteAsync(stream, response);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or the server is stopping.
            }
        }
    }

    private async Task WriteAsync(NetworkStream stream, ScriptedResponse response)
    {
        switch (response)
        {
            case ScriptedResponse.Json json:
                var body = Encoding.UTF8.GetBytes(json.Body);
                var extra = string.Concat((json.Headers ?? new Dictionary<string, string>()).Select(header => $"{header.Key}: {header.Value}\r\n"));
                var head = $"HTTP/1.1 {json.StatusCode} {ReasonPhrase(json.StatusCode)}\r\nContent-Type: application/json\r\n{extra}" +
                           $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stopping.Token);
                await stream.WriteAsync(body, _stopping.Token);
                await stream.FlushAsync(_stopping.Token);
                break;

            case ScriptedResponse.Stream streamed:
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"), _stopping.Token);
                if (streamed.Body.Length > 0)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"{streamed.Body.Length:x}\r\n"), _stopping.Token);
                    await stream.WriteAsync(streamed.Body, _stopping.Token);
                    await stream.WriteAsync("\r\n"u8.ToArray(), _stopping.Token);
                }

                await stream.FlushAsync(_stopping.Token);
                switch (streamed.End)
                {
                    case StreamEnd.Close:
                        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), _stopping.Token);
                        await stream.FlushAsync(_stopping.Token);
                        break;
                    case StreamEnd.Hang:
                        await Task.Delay(Timeout.Infinite, _stopping.Token);
                        break;
                    case StreamEnd.Drop:
                        break;
                }

                break;
        }
    }

    private static async Task<RecordedRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 4 || !(buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return null;
            }

            buffer.Add(one[0]);
        }

        var headLines = Encoding.ASCII.GetString([.. buffer]).Split("\r\n");
        var requestLine = headLines[0].Split(' ');
        var contentLength = headLines
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2 && parts[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(parts => int.Parse(parts[1].Trim(), System.Globalization.CultureInfo.InvariantCulture))
            .FirstOrDefault();
        var body = new byte[contentLength];
        var read = 0;
        while (read < contentLength)
        {
            var count = await stream.ReadAsync(body.AsMemory(read));
            if (count == 0)
            {
                return null;
            }

            read += count;
        }

        var target = new Uri(new Uri("http://127.0.0.1"), requestLine[1]);
        var parsed = HttpUtility.ParseQueryString(target.Query);
        var query = parsed.AllKeys.Where(key => key is not null).ToDictionary(key => key!, key => parsed[key]!, StringComparer.Ordinal);
        return new RecordedRequest(requestLine[0], target.AbsolutePath, query, Encoding.UTF8.GetString(body));
    }

    private static string ReasonPhrase(int statusCode) => statusCode switch
    {
        200 => "OK",
        201 => "Created",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        503 => "Service Unavailable",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
}
