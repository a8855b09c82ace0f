using Microsoft.Extensions.Logging;

namespace Kwarm.Holds;

internal static partial class HoldLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Holding {Deployment} (hold {HoldId}): {Images} PrePullImage(s), released by {Until} at the latest")]
    public static partial void Holding(this ILogger logger, string deployment, string holdId, int images, DateTimeOffset until);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Released {Deployment} (hold {HoldId}) after {HeldFor}: {Reason}, {Detail}")]
    public static partial void Released(this ILogger logger, string deployment, string holdId, TimeSpan heldFor, ReleaseReason reason, string detail);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Release of {Deployment} (hold {HoldId}) refused: the Deployment changed; deciding again")]
    public static partial void ReleaseRefused(this ILogger logger, string deployment, string holdId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Deleting PrePullImage {Namespace}/{Name} of {Deployment}: hold {Hold} is {Why}")]
    public static partial void DeletingPrePullImage(this ILogger logger, string @namespace, string name, string deployment, string hold, string why);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Could not record event {Reason} on {Deployment}")]
    public static partial void EventFailed(this ILogger logger, Exception exception, string reason, string deployment);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Debug, Message = "Updated status of PrePullPolicy {Policy}: {Watched} watched, {Active} active holds")]
    public static partial void PolicyStatusUpdated(this ILogger logger, string policy, int watched, int active);
}
