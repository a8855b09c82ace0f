using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Kwarm.Kubernetes;

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
                    var status = KwarmJson.Deserialize<V1Status>(content);
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
