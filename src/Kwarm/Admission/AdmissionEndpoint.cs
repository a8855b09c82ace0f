using System.Buffers;
using System.IO.Pipelines;
using Kwarm.Hosting;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kwarm.Admission;

/// <summary>
/// <c>POST /mutate/deployments</c>, <c>/mutate/statefulsets</c> and <c>/mutate/daemonsets</c> (one handler: the decision
/// goes by the request's <c>kind</c>, the path only names the kind a request that says none is counted under), and
/// <c>/mutate/nodes</c> (issue #17: the warming taint on new Nodes with <c>--taint-new-nodes</c>, counted under kind
/// <c>Node</c>): reads the body under a size cap into one buffer from the webhook's
/// <see cref="AdmissionBodyBudget"/>, answers with the reviewer's response, and turns every bad input into a 4xx with
/// a plain-text reason. Never lets an exception escape to the server.
/// </summary>
public sealed partial class AdmissionEndpoint(
    AdmissionReviewer reviewer,
    AdmissionBodyBudget budget,
    KwarmMetrics metrics,
    TimeProvider time,
    IOptions<KwarmOptions> options,
    ILogger<AdmissionEndpoint> logger)
{
    /// <summary>The API server's own request limit; an AdmissionReview (object + old object) is never larger.</summary>
    public const long MaxBodyBytes = 3 * 1024 * 1024;

    public const string Path = "/mutate/deployments";

    public const string StatefulSetsPath = "/mutate/statefulsets";

    public const string DaemonSetsPath = "/mutate/daemonsets";

    /// <summary>Node CREATEs, sent only when the webhook configuration has the nodes entry (installed with <c>--taint-new-nodes</c>).</summary>
    public const string NodesPath = "/mutate/nodes";

    /// <summary>Read once: flags are fixed for the life of the process.</summary>
    private readonly bool _taintNewNodes = options.Value.TaintNewNodes;

    /// <summary>Every path the webhook serves, and the kind each registers (issue #16: one MutatingWebhook per kind).</summary>
    public static IReadOnlyList<(string Path, WorkloadKind Kind)> Paths { get; } =
        [(Path, WorkloadKind.Deployment), (StatefulSetsPath, WorkloadKind.StatefulSet), (DaemonSetsPath, WorkloadKind.DaemonSet)];

    /// <summary>
    /// A body without a Content-Length (chunked; the API server always sends the length) starts in a buffer this
    /// large, which doubles as the body grows, each step taken from the budget like a new request.
    /// </summary>
    private const int ChunkedStartBytes = 64 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = time.GetTimestamp();
        var aborted = context.RequestAborted;
        var servesNodes = context.Request.Path.Equals(NodesPath, StringComparison.OrdinalIgnoreCase);
        // The kind label: null stands for Node, which is no workload kind.
        WorkloadKind? pathKind = servesNodes ? null : KindOfPath(context.Request.Path);

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(), started, pathKind).ConfigureAwait(false);
            return;
        }

        try
        {
            var body = await ReadBodyAsync(context.Request.BodyReader, context.Request.ContentLength, started, aborted).ConfigureAwait(false);
            switch (body.Status)
            {
                case BodyStatus.TooLarge:
                    await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(), started, pathKind).ConfigureAwait(false);
                    return;
                case BodyStatus.OverBudget:
                    var waited = time.GetElapsedTime(started);
                    LogOverBudget(logger, budget.CapacityBytes, budget.Waiting, (long)waited.TotalMilliseconds);
                    await RejectAsync(context, StatusCodes.Status429TooManyRequests, OverBudget(waited), started, pathKind, KwarmMetrics.Decisions.Overloaded).ConfigureAwait(false);
                    return;
            }

            ReviewOutcome outcome;
            try
            {
                var posted = body.Buffer.AsMemory(0, body.Length);
                outcome = servesNodes ? AdmissionReviewer.ReviewNode(posted, _taintNewNodes) : reviewer.Review(posted);
            }
            finally
            {
                // Decided: the body is no longer needed, while the answer is being written.
                if (body.Buffer.Length > 0)
                {
                    budget.Return(body.Buffer);
                }
            }

            if (outcome.Error is { } error)
            {
                await RejectAsync(context, StatusCodes.Status400BadRequest, error, started, pathKind).ConfigureAwait(false);
                return;
            }

            var request = outcome.Request!;
            var kind = pathKind;
            if (outcome.NodeDecision is { } node)
            {
                LogNode(logger, request.Name, request.Operation, node.Reason, node.Taints);
            }
            else if (outcome.Decision is { } decision)
            {
                kind = decision.Kind ?? pathKind;
                if (decision.Holds)
                {
                    var kindName = LogName(kind ?? WorkloadKind.Deployment);
                    LogHold(logger, kindName, request.Namespace, request.Name, decision.Reason, decision.HoldId, decision.PolicyName, request.DryRun == true);
                }
                else
                {
                    LogAllow(logger, request.Namespace, request.Name, request.Operation, decision.Reason);
                }
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = outcome.ResponseBody!.Length;
            await context.Response.Body.WriteAsync(outcome.ResponseBody, aborted).ConfigureAwait(false);
            Count(outcome.MetricDecision, kind, started);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The API server gave up (its own timeout); nobody is left to answer.
        }
        catch (BadHttpRequestException exception)
        {
            // Kestrel's own limits or a broken chunked body: still a client error, never a 500.
            await RejectAsync(context, exception.StatusCode, $"the request body could not be read: {exception.Message}", started, pathKind).ConfigureAwait(false);
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
                await RejectAsync(context, StatusCodes.Status500InternalServerError, "internal error in the Kwarm webhook; the request is admitted unchanged by failurePolicy Ignore", started, pathKind).ConfigureAwait(false);
            }
        }
    }

    private enum BodyStatus
    {
        Read,
        TooLarge,
        OverBudget,
    }

    /// <summary>The body read, in a buffer from the budget (empty for an empty body) that the caller returns; or why it was not.</summary>
    private readonly record struct BodyRead(BodyStatus Status, byte[] Buffer, int Length);

    /// <summary>
    /// Reads the whole body into one buffer from the budget, consuming the connection's buffers as it copies, so a
    /// body is held once. The buffer is taken before the first byte is read: a request waiting for the budget holds
    /// nothing but what the server has already received for it (bounded per connection, see KwarmHost). Unless the
    /// body is read, every buffer taken is returned here, also when reading fails.
    /// </summary>
    private async Task<BodyRead> ReadBodyAsync(PipeReader reader, long? declared, long started, CancellationToken aborted)
    {
        if (declared == 0)
        {
            return new BodyRead(BodyStatus.Read, [], 0);
        }

        var buffer = await budget.TryRentAsync(declared is { } known ? (int)known : ChunkedStartBytes, WaitLeft(started), aborted).ConfigureAwait(false);
        if (buffer is null)
        {
            return new BodyRead(BodyStatus.OverBudget, [], 0);
        }

        var length = 0;
        var status = BodyStatus.Read;
        try
        {
            while (status == BodyStatus.Read)
            {
                var read = await reader.ReadAsync(aborted).ConfigureAwait(false);
                var data = read.Buffer;
                while (!data.IsEmpty && status == BodyStatus.Read)
                {
                    if (length == buffer.Length)
                    {
                        // Only a body without a declared length can outgrow its buffer (Kestrel holds a declared one to its length).
                        if (declared is not null || length >= MaxBodyBytes)
                        {
                            status = BodyStatus.TooLarge;
                            break;
                        }

                        var grown = await budget.TryRentAsync((int)Math.Min(2L * buffer.Length, MaxBodyBytes), WaitLeft(started), aborted).ConfigureAwait(false);
                        if (grown is null)
                        {
                            status = BodyStatus.OverBudget;
                            break;
                        }

                        buffer.AsSpan(0, length).CopyTo(grown);
                        budget.Return(buffer);
                        buffer = grown;
                    }

                    var count = (int)Math.Min(data.Length, buffer.Length - length);
                    data.Slice(0, count).CopyTo(buffer.AsSpan(length));
                    length += count;
                    data = data.Slice(count);
                }

                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }

            if (status == BodyStatus.Read && length > MaxBodyBytes)
            {
                status = BodyStatus.TooLarge;
            }
        }
        catch
        {
            budget.Return(buffer);
            throw;
        }

        if (status != BodyStatus.Read)
        {
            budget.Return(buffer);
            return new BodyRead(status, [], 0);
        }

        return new BodyRead(status, buffer, length);
    }

    /// <summary>What is left of the longest wait for the budget, counted from the request's arrival.</summary>
    private TimeSpan WaitLeft(long started) => budget.MaxWait - time.GetElapsedTime(started);

    /// <summary>The kind as the hold log names it: lowercase, as <c>kubectl</c> does (<c>deployment</c>, <c>statefulset</c>).</summary>
    private static string LogName(WorkloadKind kind) => kind switch
    {
        WorkloadKind.StatefulSet => "statefulset",
        WorkloadKind.DaemonSet => "daemonset",
        _ => "deployment",
    };

    /// <summary>The kind a path registers; a path of none (a test's own route) counts as Deployment, the first and default.</summary>
    private static WorkloadKind KindOfPath(PathString path)
    {
        foreach (var (served, kind) in Paths)
        {
            if (path.Equals(served, StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        return WorkloadKind.Deployment;
    }

    /// <summary>One answered request in <c>kwarm_webhook_requests_total</c>; <paramref name="kind"/> null counts under <c>Node</c>.</summary>
    private void Count(string decision, WorkloadKind? kind, long started)
    {
        var elapsed = time.GetElapsedTime(started);
        if (kind is { } workload)
        {
            metrics.WebhookRequest(decision, workload, elapsed);
        }
        else
        {
            metrics.NodeWebhookRequest(decision, elapsed);
        }
    }

    private async Task RejectAsync(HttpContext context, int status, string message, long started, WorkloadKind? kind, string decision = KwarmMetrics.Decisions.Invalid)
    {
        if (decision == KwarmMetrics.Decisions.Invalid)
        {
            LogRejected(logger, status, message);
        }

        Count(decision, kind, started);
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted).ConfigureAwait(false);
    }

    private string OverBudget(TimeSpan waited) =>
        $"the Kwarm webhook is busy: the request bodies it is reading already take its {budget.CapacityBytes}-byte budget and this one waited {waited.TotalMilliseconds:0} ms; " +
        "the change is admitted un-held by failurePolicy Ignore";

    private static string TooLarge() => $"the request body is larger than {MaxBodyBytes} bytes (3 MiB), the API server's own limit";

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Refused an admission request with HTTP {Status}: {Reason}")]
    private static partial void LogRejected(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning,
        Message = "Refused an admission request with HTTP 429: the bodies in flight held the {Capacity}-byte budget for {WaitedMs} ms ({Waiting} more waiting); the change goes through un-held")]
    private static partial void LogOverBudget(ILogger logger, long capacity, int waiting, long waitedMs);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Admission connection lost before an answer: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Unexpected failure while answering an admission request")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "Holding the rollout of {Kind} {Namespace}/{Name} ({Reason}): hold {HoldId}, policy {Policy}, dry run {DryRun}")]
    private static partial void LogHold(ILogger logger, string kind, string? @namespace, string? name, HoldReason reason, string? holdId, string? policy, bool dryRun);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Allowed {Operation} of {Namespace}/{Name} unchanged: {Reason}")]
    private static partial void LogAllow(ILogger logger, string? @namespace, string? name, string? operation, HoldReason reason);

    // Debug: with --taint-new-nodes every joining node passes here; the warm-up controller's NodeWarmupStarted event is
    // the record an operator reads.
    [LoggerMessage(EventId = 4007, Level = LogLevel.Debug, Message = "Answered {Operation} of Node {Name}: {Reason}, warming taint added {Tainted}")]
    private static partial void LogNode(ILogger logger, string? name, string? operation, NodeTaintReason reason, bool tainted);
}
