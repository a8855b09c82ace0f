using System.Buffers;
using System.IO.Pipelines;
using Kwarm.Observability;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kwarm.Admission;

/// <summary>
/// <c>POST /mutate/deployments</c>: reads the body under a size cap, answers with the reviewer's response, and
/// turns every bad input into a 4xx with a plain-text reason. Never lets an exception escape to the server.
/// </summary>
public sealed partial class AdmissionEndpoint(AdmissionReviewer reviewer, KwarmMetrics metrics, TimeProvider time, ILogger<AdmissionEndpoint> logger)
{
    /// <summary>The API server's own request limit; an AdmissionReview (object + old object) is never larger.</summary>
    public const long MaxBodyBytes = 3 * 1024 * 1024;

    public const string Path = "/mutate/deployments";

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = time.GetTimestamp();
        var aborted = context.RequestAborted;

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(), started).ConfigureAwait(false);
            return;
        }

        ReadResult read = default;
        var reader = context.Request.BodyReader;
        try
        {
            // Read the whole body before parsing, without copying it; stop as soon as it passes the cap.
            while (true)
            {
                read = await reader.ReadAsync(aborted).ConfigureAwait(false);
                if (read.Buffer.Length > MaxBodyBytes)
                {
                    reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                    await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(), started).ConfigureAwait(false);
                    return;
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }

                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }

            ReviewOutcome outcome;
            try
            {
                outcome = reviewer.Review(read.Buffer);
            }
            finally
            {
                reader.AdvanceTo(read.Buffer.End);
            }

            if (outcome.Error is { } error)
            {
                await RejectAsync(context, StatusCodes.Status400BadRequest, error, started).ConfigureAwait(false);
                return;
            }

            var decision = outcome.Decision!;
            var request = outcome.Request!;
            if (decision.Holds)
            {
                LogHold(logger, request.Namespace, request.Name, decision.Reason, decision.HoldId, decision.PolicyName, request.DryRun == true);
            }
            else
            {
                LogAllow(logger, request.Namespace, request.Name, request.Operation, decision.Reason);
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = outcome.ResponseBody!.Length;
            await context.Response.Body.WriteAsync(outcome.ResponseBody, aborted).ConfigureAwait(false);
            metrics.WebhookRequest(outcome.MetricDecision, time.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The API server gave up (its own timeout); nobody is left to answer.
        }
        catch (BadHttpRequestException exception)
        {
            // Kestrel's own limits or a broken chunked body: still a client error, never a 500.
            await RejectAsync(context, exception.StatusCode, $"the request body could not be read: {exception.Message}", started).ConfigureAwait(false);
        }
        catch (IOException exception)
        {
            // The connection broke mid-request (reset, TLS failure): there is no one to answer.
            LogConnectionLost(logger, exception.Message);
        }
#pragma warning disable CA1031 // The last line of defence: a bug must cost one answer, never the process or a stack trace to the client.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogUnexpected(logger, exception);
            if (!context.Response.HasStarted)
            {
                // failurePolicy: Ignore makes the API server admit the request unchanged.
                await RejectAsync(context, StatusCodes.Status500InternalServerError, "internal error in the Kwarm webhook; the request is admitted unchanged by failurePolicy Ignore", started).ConfigureAwait(false);
            }
        }
    }

    private async Task RejectAsync(HttpContext context, int status, string message, long started)
    {
        LogRejected(logger, status, message);
        metrics.WebhookRequest(KwarmMetrics.Decisions.Invalid, time.GetElapsedTime(started));
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted).ConfigureAwait(false);
    }

    private static string TooLarge() => $"the request body is larger than {MaxBodyBytes} bytes (3 MiB), the API server's own limit";

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Refused an admission request with HTTP {Status}: {Reason}")]
    private static partial void LogRejected(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Admission connection lost before an answer: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Unexpected failure while answering an admission request")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "Holding the rollout of deployment {Namespace}/{Name} ({Reason}): hold {HoldId}, policy {Policy}, dry run {DryRun}")]
    private static partial void LogHold(ILogger logger, string? @namespace, string? name, HoldReason reason, string? holdId, string? policy, bool dryRun);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Allowed {Operation} of {Namespace}/{Name} unchanged: {Reason}")]
    private static partial void LogAllow(ILogger logger, string? @namespace, string? name, string? operation, HoldReason reason);
}
