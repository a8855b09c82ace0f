using System.Globalization;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Kwarm.Runtime;

/// <summary>Reads the API server's error answers, whichever way the client surfaced them.</summary>
public static class ApiErrors
{
    /// <summary>The HTTP status of an API error, or null when the exception is not one.</summary>
    public static HttpStatusCode? StatusCodeOf(Exception exception) => exception switch
    {
        HttpOperationException { Response: { } response } => response.StatusCode,
        KubernetesException { Status.Code: { } code } => (HttpStatusCode)code,
        _ => null,
    };

    /// <summary>The <c>Status</c> object the server sent with the error, when it sent one.</summary>
    public static V1Status? StatusOf(Exception exception)
    {
        switch (exception)
        {
            case KubernetesException { Status: { } status }:
                return status;
            case HttpOperationException { Response.Content: { Length: > 0 } content }:
                try
                {
                    var status = JsonSerializer.Deserialize(content, RuntimeJsonContext.Default.V1Status);
                    return status?.Kind == "Status" ? status : null;
                }
                catch (JsonException)
                {
                    return null;
                }

            default:
                return null;
        }
    }

    /// <summary>
    /// The resourceVersion or continue token asked for is older than the server keeps: the caller must
    /// list again from scratch. Servers send <c>410 Gone</c> with reason <c>Expired</c> (or <c>Gone</c> before 1.16).
    /// </summary>
    public static bool IsExpired(Exception exception) =>
        StatusCodeOf(exception) == HttpStatusCode.Gone || IsExpired(StatusOf(exception));

    public static bool IsExpired(V1Status? status) =>
        status is not null && (status.Code == (int)HttpStatusCode.Gone || status.Reason is "Expired" or "Gone");

    public static bool IsConflict(Exception exception) => StatusCodeOf(exception) == HttpStatusCode.Conflict;

    public static bool IsNotFound(Exception exception) => StatusCodeOf(exception) == HttpStatusCode.NotFound;

    /// <summary>
    /// Whether a failed API call is one a retry can cure and the log should show on one line, without a stack trace:
    /// <c>429</c>, a <c>5xx</c> answer other than <c>501</c>, a refused, reset or closed connection, a name that does not
    /// resolve yet, or a timeout. Anything else (a refusal, a bug) keeps its exception in the log.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        null => false,
        HttpOperationException or KubernetesException => StatusCodeOf(exception) is { } status
            && ((int)status == 429 || ((int)status >= 500 && status != HttpStatusCode.NotImplemented)),
        HttpRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException or Polly.Timeout.TimeoutRejectedException => true,
        TaskCanceledException { InnerException: TimeoutException } => true,
        _ => false,
    };

    /// <summary>
    /// A failed API call on one line, for the log: <c>HTTP 503 ServiceUnavailable: etcd is unhappy</c>,
    /// <c>Connection refused (10.96.0.1:443)</c>, <c>no answer within 15s</c>.
    /// </summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (StatusCodeOf(exception) is { } status)
        {
            var answer = StatusOf(exception);
            var reason = string.IsNullOrEmpty(answer?.Reason) ? status.ToString() : answer.Reason;
            var message = string.IsNullOrEmpty(answer?.Message) ? "" : ": " + answer.Message;
            return OneLine($"HTTP {(int)status} {reason}{message}");
        }

        return exception switch
        {
            Polly.Timeout.TimeoutRejectedException timeout => $"no answer within {timeout.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
            HttpRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException => OneLine(WithCause(exception)),
            TaskCanceledException { InnerException: TimeoutException inner } => OneLine(inner.Message),
            _ => OneLine($"{exception.GetType().Name}: {exception.Message}"),
        };
    }

    /// <summary>The message, followed by its root cause's when that adds something ("The SSL connection could not be established" alone says little).</summary>
    private static string WithCause(Exception exception)
    {
        var cause = exception.GetBaseException();
        return cause == exception || exception.Message.Contains(cause.Message, StringComparison.Ordinal)
            ? exception.Message
            : $"{exception.Message} ({cause.Message})";
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Builds the same exception the generated client throws for a non-success answer.</summary>
    internal static async Task<HttpOperationException> FromResponseAsync(
        HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return new HttpOperationException(
            $"{request.Method} {request.RequestUri?.AbsolutePath} returned {(int)response.StatusCode} {response.StatusCode}")
        {
            Request = new HttpRequestMessageWrapper(request, null),
            Response = new HttpResponseMessageWrapper(response, content),
        };
    }
}
