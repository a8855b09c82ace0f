using Microsoft.Extensions.Logging;

namespace Kwarm.Warmup;

internal static partial class WarmupLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Warming node {Node}: {Images} image(s) to pre-pull, taint lifted by {Deadline} at the latest")]
    public static partial void Warming(this ILogger logger, string node, int images, DateTimeOffset deadline);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Lifted the warming taint of node {Node} ({Outcome}) {Age} after its creation: {Images} image(s) needed, {Failed} failed, {Pending} not there")]
    public static partial void Lifted(this ILogger logger, string node, WarmupOutcome outcome, TimeSpan age, int images, int failed, int pending);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Lift of node {Node}'s warming taint refused: its taints changed or it is gone; deciding again")]
    public static partial void LiftRefused(this ILogger logger, string node);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Could not record event {Reason} on node {Node}")]
    public static partial void EventFailed(this ILogger logger, Exception exception, string reason, string node);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "Warm-up PrePullImage {Namespace}/{Name}: {Change} ({Nodes} node(s))")]
    public static partial void PrePullImageChanged(this ILogger logger, string @namespace, string name, string change, int nodes);
}
