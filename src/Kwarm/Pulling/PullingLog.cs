using Microsoft.Extensions.Logging;

namespace Kwarm.Pulling;

internal static partial class PullingLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Started pull Job {Namespace}/{Job} for node {Node} (attempt {Attempt})")]
    public static partial void JobStarted(this ILogger logger, string @namespace, string job, string node, int attempt);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Creating pull Job {Namespace}/{Job} failed: {Error}; it will be tried again in {Delay}")]
    public static partial void JobCreateFailed(this ILogger logger, Exception? exception, string @namespace, string job, string error, TimeSpan delay);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "PrePullImage {Key}: node {Node} attempt {Attempt} finished: {Result}")]
    public static partial void AttemptFinished(this ILogger logger, string key, string node, int attempt, string result);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "PrePullImage {Key} is {Phase}")]
    public static partial void PhaseChanged(this ILogger logger, string key, Resources.PrePullImagePhase? phase);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "PrePullImage {Key} finished {Age} ago and is owned by a Deployment: deleting it")]
    public static partial void DeletingFinished(this ILogger logger, string key, TimeSpan age);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "PrePullImage {Key} is gone: deleting its {Count} pull Jobs")]
    public static partial void CancellingJobs(this ILogger logger, string key, int count);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "PrePullImage {Key} cannot be pulled: {Problems}")]
    public static partial void InvalidSpec(this ILogger logger, string key, string problems);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Deleting pull Job {Namespace}/{Job} failed; it will be tried again")]
    public static partial void JobDeleteFailed(this ILogger logger, Exception exception, string @namespace, string job);
}
