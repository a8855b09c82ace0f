using Microsoft.Extensions.Logging;

namespace Kwarm.Runtime;

internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Listed {Resource}: {Count} objects at resourceVersion {ResourceVersion} ({Added} added, {Updated} updated, {Deleted} deleted)")]
    public static partial void Listed(this ILogger logger, string resource, int count, string resourceVersion, int added, int updated, int deleted);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Watching {Resource} from resourceVersion {ResourceVersion}")]
    public static partial void Watching(this ILogger logger, string resource, string resourceVersion);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "resourceVersion {ResourceVersion} of {Resource} has expired ({Message}); listing again")]
    public static partial void Expired(this ILogger logger, string resource, string resourceVersion, string? message);

    // The failures below carry their exception (and so a stack trace) only when it is not a transient API error
    // (ApiErrors.IsTransient): a server restarting or a connection reset is one line with what happened and when the
    // next attempt is, not forty lines of HttpClient internals.

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Watch of {Resource} failed: {Error}; resuming from resourceVersion {ResourceVersion} in {Delay}")]
    public static partial void WatchFailed(this ILogger logger, Exception? exception, string resource, string error, string resourceVersion, TimeSpan delay);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "LIST of {Resource} failed: {Error}; retrying in {Delay}")]
    public static partial void ListFailed(this ILogger logger, Exception? exception, string resource, string error, TimeSpan delay);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Watch of {Resource} silent for {Limit}; restarting it from resourceVersion {ResourceVersion}")]
    public static partial void WatchSilent(this ILogger logger, string resource, TimeSpan limit, string resourceVersion);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Watch of {Resource} returned an error event: {Code} {Reason} {Message}")]
    public static partial void WatchErrorEvent(this ILogger logger, string resource, int? code, string? reason, string? message);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "A subscriber of {Resource} threw while handling {EventType} {Key}")]
    public static partial void SubscriberFailed(this ILogger logger, Exception exception, string resource, ResourceEventType eventType, string key);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "Cache of {Resource} synced")]
    public static partial void Synced(this ILogger logger, string resource);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "{Controller} failed to reconcile {Key} (failure {Failures}): {Error}; retrying with backoff")]
    public static partial void ReconcileFailed(this ILogger logger, Exception? exception, string controller, string? key, int failures, string error);

    [LoggerMessage(EventId = 1030, Level = LogLevel.Warning, Message = "API write failed: {Error}; retry {Attempt} in {Delay}")]
    public static partial void WriteRetry(this ILogger logger, Exception? exception, string error, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 1040, Level = LogLevel.Information, Message = "Leader election disabled: this replica leads")]
    public static partial void LeadingWithoutElection(this ILogger logger);

    [LoggerMessage(EventId = 1041, Level = LogLevel.Information, Message = "{Identity} became the leader (lease {Lease})")]
    public static partial void StartedLeading(this ILogger logger, string identity, string lease);

    [LoggerMessage(EventId = 1042, Level = LogLevel.Warning, Message = "{Identity} lost leadership (lease {Lease}); controllers stopped; exiting so that a fresh process campaigns")]
    public static partial void LostLeadership(this ILogger logger, string identity, string lease);

    [LoggerMessage(EventId = 1043, Level = LogLevel.Information, Message = "{Leader} leads (lease {Lease})")]
    public static partial void NewLeader(this ILogger logger, string leader, string lease);

    [LoggerMessage(EventId = 1044, Level = LogLevel.Debug, Message = "Leader election on lease {Lease} hit an error")]
    public static partial void ElectionError(this ILogger logger, Exception exception, string lease);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Debug, Message = "{Controller} hit a write conflict on {Key}; re-reading and retrying")]
    public static partial void ReconcileConflict(this ILogger logger, Exception exception, string controller, object key);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "Skipped {Resource} {Object}: it does not fit Kwarm's model of the resource")]
    public static partial void UnreadableObject(this ILogger logger, Exception exception, string resource, string @object);
}
